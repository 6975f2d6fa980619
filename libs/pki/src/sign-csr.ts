import type { Pkcs10CertificateRequest } from "@peculiar/x509";
import { type CertificateAuthority, loadIssuer } from "./certificate-authority.js";
import { checkedSerialNumber, randomSerialNumber } from "./certificate-fields.js";
import { InvalidCsrError, InvalidPemError } from "./errors.js";
import { KEY_ALGORITHM } from "./keys.js";
import { issueLeafCertificate } from "./leaf-certificate.js";
import { decodePemBlocks, encodePem, errorMessage } from "./pem.js";
import { x509 } from "./x509-runtime.js";

export interface SignCsrOptions {
  /** Replaces whatever name the CSR asks for: the CA, not the requester, decides the identity. */
  commonName: string;
  validityDays: number;
  /** Hex; a random 16-byte serial when omitted. */
  serialNumber?: string;
}

export interface SignedCertificate {
  certPem: string;
  /** Upper-case hex, as OpenSSL and Node's X509Certificate print it. */
  serialNumber: string;
  notAfter: Date;
}

/**
 * Signs a client (EKU clientAuth) certificate for the CSR's key. Only the key is taken from the
 * CSR; requested extensions are ignored so a requester cannot widen its own certificate.
 */
export async function signCsr(
  ca: CertificateAuthority,
  csrPem: string,
  options: SignCsrOptions,
): Promise<SignedCertificate> {
  const csr = await verifiedCsr(csrPem);
  const serialNumber =
    options.serialNumber === undefined ? randomSerialNumber() : checkedSerialNumber(options.serialNumber);
  const cert = await issueLeafCertificate(await loadIssuer(ca), {
    publicKey: csr.publicKey,
    commonName: options.commonName,
    validityDays: options.validityDays,
    serialNumber,
    extendedKeyUsage: x509.ExtendedKeyUsage.clientAuth,
  });
  return {
    certPem: encodePem(cert.rawData, "CERTIFICATE"),
    serialNumber: cert.serialNumber.toUpperCase(),
    notAfter: cert.notAfter,
  };
}

async function verifiedCsr(csrPem: string): Promise<Pkcs10CertificateRequest> {
  const [der] = decodePemBlocks(csrPem, "CERTIFICATE REQUEST", "CSR");
  let csr: Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(der);
  } catch (error) {
    throw new InvalidPemError("CSR", errorMessage(error), error);
  }
  const algorithm: { name?: string; namedCurve?: string } = csr.publicKey.algorithm;
  if (algorithm.name !== KEY_ALGORITHM.name || algorithm.namedCurve !== KEY_ALGORITHM.namedCurve) {
    throw new InvalidCsrError(
      "PKI_CSR_UNSUPPORTED_KEY",
      `CSR key is ${algorithm.name ?? "unknown"} ${algorithm.namedCurve ?? ""}; only ECDSA P-256 keys are accepted (use createKeyAndCsr)`,
    );
  }
  if (!(await csr.verify())) {
    throw new InvalidCsrError(
      "PKI_CSR_BAD_SIGNATURE",
      `CSR for "${csr.subject}" has a signature that does not match its public key: it was altered after signing; create a new one with createKeyAndCsr`,
    );
  }
  return csr;
}
