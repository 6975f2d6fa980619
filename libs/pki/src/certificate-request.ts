import { subjectName } from "./certificate-fields.js";
import { exportPrivateKeyPem, generateKeyPair, SIGNING_ALGORITHM } from "./keys.js";
import { encodePem } from "./pem.js";
import { x509 } from "./x509-runtime.js";

export interface KeyAndCsr {
  keyPem: string;
  csrPem: string;
}

/** Run where the key will live (the agent): only the CSR is sent to the CA, the key never leaves. */
export async function createKeyAndCsr(options: { commonName: string }): Promise<KeyAndCsr> {
  const keys = await generateKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subjectName(options.commonName),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
  });
  return {
    keyPem: await exportPrivateKeyPem(keys.privateKey),
    csrPem: encodePem(csr.rawData, "CERTIFICATE REQUEST"),
  };
}
