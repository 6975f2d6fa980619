import { chmod, chown, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createCertificateAuthority, issueServerCertificate } from "@pwdr/pki";
import { makeTempDir } from "@pwdr/test-harness";

/** Owner given to the planted config.yaml, to see that owners survive (needs root). */
export const PLANTED_OWNER = { uid: 1234, gid: 5678 };

export interface ConfigFixture {
  root: string;
  piwardrive: string;
  nginx: string;
  compose: string;
  /** Strings that must never leave the repository: planted secrets and private-key text. */
  secrets: string[];
  /** Files (relative to root) with their planted mode. */
  files: Record<string, number>;
}

/**
 * A fake host configuration under a temp dir: /etc/piwardrive with a
 * password in config.yaml, secrets in .env, a private key, a certificate
 * chain valid for a year and a certificate expiring in 5 days (its key in
 * the same file, as haproxy wants it); nginx and compose files beside it.
 */
export async function makeConfigFixture(): Promise<ConfigFixture> {
  const root = makeTempDir("config-src");
  const ca = await createCertificateAuthority({ commonName: "PiWardrive Test CA", validityDays: 3650 });
  const server = await issueServerCertificate(ca, {
    commonName: "pi-01.fleet.test",
    dnsNames: ["pi-01.fleet.test", "piwardrive.local"],
    ipAddresses: ["10.0.0.7"],
    validityDays: 365,
  });
  const expiring = await issueServerCertificate(ca, {
    commonName: "old.fleet.test",
    dnsNames: ["old.fleet.test"],
    validityDays: 5,
  });
  const contents: Record<string, [string, number]> = {
    "etc/piwardrive/config.yaml": ["db:\n  user: piwardrive\n  password: planted-password-123\n", 0o600],
    "etc/piwardrive/.env": ["DB_PASSWORD=planted-secret-XYZ\nAPI_TOKEN=planted-token-QRS\n", 0o600],
    "etc/piwardrive/tls/server.crt": [server.certPem + ca.certPem, 0o644],
    "etc/piwardrive/tls/server.key": [server.keyPem, 0o600],
    "etc/piwardrive/tls/ca-key.pem": [ca.keyPem, 0o400],
    "etc/piwardrive/tls/old-combined.pem": [expiring.certPem + expiring.keyPem, 0o640],
    "etc/piwardrive/editor.swp": ["password: planted-password-123\n", 0o600],
    "etc/nginx/nginx.conf": ["server { listen 443 ssl; }\n", 0o644],
    "srv/piwardrive/docker-compose.yml": ["services:\n  app:\n    env_file: .env\n", 0o644],
  };
  for (const [rel, [text, mode]] of Object.entries(contents)) await plant(join(root, rel), text, mode);
  await chown(join(root, "etc/piwardrive/config.yaml"), PLANTED_OWNER.uid, PLANTED_OWNER.gid);
  await chmod(join(root, "etc/piwardrive/tls"), 0o750);
  return {
    root,
    piwardrive: join(root, "etc/piwardrive"),
    nginx: join(root, "etc/nginx/nginx.conf"),
    compose: join(root, "srv/piwardrive/docker-compose.yml"),
    secrets: [
      "planted-password-123",
      "planted-secret-XYZ",
      "planted-token-QRS",
      ...[server.keyPem, ca.keyPem, expiring.keyPem].flatMap(keyLines),
    ],
    files: Object.fromEntries(Object.entries(contents).map(([rel, [, mode]]) => [rel, mode])),
  };
}

async function plant(path: string, text: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
  await chmod(path, mode);
}

/** A key's base64 lines: any of them leaking is a leak of the key. */
function keyLines(pem: string): string[] {
  return pem.split("\n").filter((line) => line.length > 0 && !line.startsWith("-----"));
}
