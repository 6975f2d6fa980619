import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  createCertificateAuthority,
  describeCertificate,
  issueServerCertificate,
  writePrivateKeyFile,
} from "@pwdr/pki";
import { CONTROLLER_TLS_NAME, certificateFingerprint, type TlsIdentity } from "@pwdr/protocol";

/** The controller's CA and its own TLS identity, kept in `<dataDir>/pki`. */
export interface ControllerPki {
  ca: TlsIdentity;
  server: TlsIdentity;
  /** SHA-256 of the CA certificate (hex); enrollment tokens carry it. */
  caFingerprint: string;
}

const CA_VALIDITY_DAYS = 3650;
const SERVER_VALIDITY_DAYS = 825;

async function loadIdentity(dir: string, name: string): Promise<TlsIdentity | undefined> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  if (!existsSync(certFile) || !existsSync(keyFile)) return undefined;
  return { certPem: await readFile(certFile, "utf8"), keyPem: await readFile(keyFile, "utf8") };
}

async function saveIdentity(dir: string, name: string, identity: TlsIdentity): Promise<void> {
  await writePrivateKeyFile(join(dir, `${name}.key`), identity.keyPem);
  await writeFile(join(dir, `${name}.crt`), identity.certPem, { mode: 0o644 });
}

/** Loads the PKI, creating the CA on first start and renewing the server certificate when it nears expiry. */
export async function loadOrCreateControllerPki(dataDir: string): Promise<ControllerPki> {
  const dir = join(dataDir, "pki");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let ca = await loadIdentity(dir, "ca");
  if (!ca) {
    ca = await createCertificateAuthority({
      commonName: "PWDR controller CA",
      validityDays: CA_VALIDITY_DAYS,
    });
    await saveIdentity(dir, "ca", ca);
  }
  let server = await loadIdentity(dir, "server");
  if (!server || expiresWithinDays(server.certPem, 30)) {
    server = await issueServerCertificate(ca, {
      commonName: CONTROLLER_TLS_NAME,
      dnsNames: [CONTROLLER_TLS_NAME, "localhost"],
      ipAddresses: ["127.0.0.1"],
      validityDays: SERVER_VALIDITY_DAYS,
    });
    await saveIdentity(dir, "server", server);
  }
  return { ca, server, caFingerprint: certificateFingerprint(ca.certPem) };
}

function expiresWithinDays(certPem: string, days: number): boolean {
  return describeCertificate(certPem).notAfter.getTime() - Date.now() < days * 86_400_000;
}
