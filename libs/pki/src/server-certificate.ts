import { isIP } from "node:net";
import type { JsonGeneralNames } from "@peculiar/x509";
import { type CertificateAuthority, type CertificateWithKey, loadIssuer } from "./certificate-authority.js";
import { randomSerialNumber } from "./certificate-fields.js";
import { InvalidOptionsError } from "./errors.js";
import { exportPrivateKeyPem, generateKeyPair } from "./keys.js";
import { issueLeafCertificate } from "./leaf-certificate.js";
import { encodePem } from "./pem.js";
import { x509 } from "./x509-runtime.js";

export interface ServerCertificateOptions {
  commonName: string;
  /** Host names clients connect with; TLS clients check these, not the commonName. */
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  validityDays: number;
}

/** A TLS server certificate (EKU serverAuth) and its new key, signed by `ca`. */
export async function issueServerCertificate(
  ca: CertificateAuthority,
  options: ServerCertificateOptions,
): Promise<CertificateWithKey> {
  const subjectAltNames = serverAltNames(options.dnsNames ?? [], options.ipAddresses ?? []);
  const issuer = await loadIssuer(ca);
  const keys = await generateKeyPair();
  const cert = await issueLeafCertificate(issuer, {
    publicKey: keys.publicKey,
    commonName: options.commonName,
    validityDays: options.validityDays,
    serialNumber: randomSerialNumber(),
    extendedKeyUsage: x509.ExtendedKeyUsage.serverAuth,
    subjectAltNames,
  });
  return {
    certPem: encodePem(cert.rawData, "CERTIFICATE"),
    keyPem: await exportPrivateKeyPem(keys.privateKey),
  };
}

function serverAltNames(dnsNames: readonly string[], ipAddresses: readonly string[]): JsonGeneralNames {
  if (dnsNames.length + ipAddresses.length === 0) {
    throw new InvalidOptionsError(
      "a server certificate needs at least one of dnsNames or ipAddresses, or no client can verify it",
    );
  }
  const badName = dnsNames.find((name) => !/^[^\s]+$/.test(name));
  if (badName !== undefined) throw new InvalidOptionsError(`invalid DNS name ${JSON.stringify(badName)}`);
  const badIp = ipAddresses.find((ip) => isIP(ip) === 0);
  if (badIp !== undefined) throw new InvalidOptionsError(`invalid IP address ${JSON.stringify(badIp)}`);
  return [
    ...dnsNames.map((value) => ({ type: "dns" as const, value })),
    ...ipAddresses.map((value) => ({ type: "ip" as const, value })),
  ];
}
