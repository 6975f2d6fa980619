// X.509 for PWDR's fleet: the controller's CA, server certificates and enrollment CSR signing, the
// agent's key + CSR generation, and a description of any certificate found on a host.
// ECDSA P-256 with SHA-256 throughout; everything goes in and out as PEM.
export {
  type CertificateAuthority,
  type CertificateAuthorityOptions,
  type CertificateWithKey,
  createCertificateAuthority,
} from "./certificate-authority.js";
export { createKeyAndCsr, type KeyAndCsr } from "./certificate-request.js";
export {
  type CertificateDescription,
  describeCertificate,
  describeCertificates,
} from "./describe-certificate.js";
export {
  InvalidCsrError,
  InvalidOptionsError,
  InvalidPemError,
  isPkiError,
  KeyMismatchError,
  PkiError,
  type PkiErrorCode,
} from "./errors.js";
export { writeFileAtomic, writePrivateKeyFile } from "./private-key-file.js";
export { issueServerCertificate, type ServerCertificateOptions } from "./server-certificate.js";
export { type SignCsrOptions, type SignedCertificate, signCsr } from "./sign-csr.js";
