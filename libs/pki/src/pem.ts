import type { X509Certificate } from "@peculiar/x509";
import { InvalidPemError } from "./errors.js";
import { x509 } from "./x509-runtime.js";

/** PEM with a trailing newline, as files written by OpenSSL have. */
export function encodePem(der: ArrayBuffer, label: string): string {
  return `${x509.PemConverter.encode(der, label)}\n`;
}

/** DER of every block labelled `label`; other blocks (a key next to a chain, say) are skipped. */
export function decodePemBlocks(pem: string, label: string, what: string): [ArrayBuffer, ...ArrayBuffer[]] {
  let blocks: ReturnType<typeof x509.PemConverter.decodeWithHeaders>;
  try {
    blocks = x509.PemConverter.decodeWithHeaders(pem);
  } catch (error) {
    throw new InvalidPemError(what, errorMessage(error), error);
  }
  const [first, ...rest] = blocks.filter((block) => block.type === label).map((block) => block.rawData);
  if (first === undefined) throw new InvalidPemError(what, `no "-----BEGIN ${label}-----" block found`);
  return [first, ...rest];
}

export function parseCertificates(pem: string, what: string): [X509Certificate, ...X509Certificate[]] {
  const [first, ...rest] = decodePemBlocks(pem, "CERTIFICATE", what).map((der, index) => {
    try {
      return new x509.X509Certificate(der);
    } catch (error) {
      throw new InvalidPemError(`${what} (certificate #${index + 1})`, errorMessage(error), error);
    }
  });
  return [first as X509Certificate, ...rest];
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
