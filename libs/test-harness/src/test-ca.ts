import {
  type CertificateAuthority,
  type CertificateWithKey,
  createCertificateAuthority,
  createKeyAndCsr,
  issueServerCertificate,
  signCsr,
} from "@pwdr/pki";

const VALIDITY_DAYS = 2;

/** A CA with helpers that issue the certificates tests need, the way the product issues them. */
export interface TestIssuer {
  ca: CertificateAuthority;
  /** A server certificate for `localhost` and `127.0.0.1` (plus `dnsNames`, if given). */
  issueServer(options?: { commonName?: string; dnsNames?: readonly string[] }): Promise<CertificateWithKey>;
  /** A client certificate, made the enrollment way: a key + CSR, then signCsr. */
  issueClient(commonName: string): Promise<CertificateWithKey>;
}

export interface TestCa extends TestIssuer {
  /** A second, unrelated CA: what it issues must be refused by anything trusting `ca`. */
  unrelated: TestIssuer;
}

export async function createTestCa(): Promise<TestCa> {
  const [trusted, unrelated] = await Promise.all([
    testIssuer("PWDR Test CA"),
    testIssuer("Unrelated Test CA"),
  ]);
  return { ...trusted, unrelated };
}

async function testIssuer(commonName: string): Promise<TestIssuer> {
  const ca = await createCertificateAuthority({ commonName, validityDays: VALIDITY_DAYS });
  return {
    ca,
    issueServer: (options = {}) =>
      issueServerCertificate(ca, {
        commonName: options.commonName ?? "localhost",
        dnsNames: ["localhost", ...(options.dnsNames ?? [])],
        ipAddresses: ["127.0.0.1"],
        validityDays: VALIDITY_DAYS,
      }),
    issueClient: async (clientName) => {
      const { keyPem, csrPem } = await createKeyAndCsr({ commonName: clientName });
      const { certPem } = await signCsr(ca, csrPem, { commonName: clientName, validityDays: VALIDITY_DAYS });
      return { certPem, keyPem };
    },
  };
}
