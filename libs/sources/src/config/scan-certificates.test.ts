import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createCertificateAuthority } from "@pwdr/pki";
import { makeTempDir, stopAll } from "@pwdr/test-harness";
import { afterAll, describe, expect, it } from "vitest";
import { excludeFilter } from "../tree/exclude-filter.js";
import { scanCertificates } from "./scan-certificates.js";

afterAll(stopAll);

const DAY = 86_400_000;

async function planted(name: string, text: string): Promise<{ path: string; size: number }> {
  const path = join(makeTempDir("config-scan"), name);
  await writeFile(path, text);
  return { path, size: Buffer.byteLength(text) };
}

describe("scanCertificates", () => {
  it("warns about an expired certificate and honours the warning window", async () => {
    const ca = await createCertificateAuthority({ commonName: "Scan CA", validityDays: 10 });
    const file = await planted("ca.crt", ca.certPem);
    const later = await scanCertificates([file], new Date(Date.now() + 20 * DAY), 30);
    expect(later.certificates[0]).toMatchObject({ subject: "CN=Scan CA", expiresSoon: true });
    expect(later.warnings[0]).toMatch(/expired on .* \(1[01] days ago\)/);
    const narrow = await scanCertificates([file], new Date(), 5);
    expect(narrow).toMatchObject({ certificates: [{ expiresSoon: false }], warnings: [] });
  });

  it("finds certificates by content in files of any name, and skips key-only .pem files", async () => {
    const ca = await createCertificateAuthority({ commonName: "Content CA", validityDays: 100 });
    const bundle = await planted("bundle", `# trusted\n${ca.certPem}`);
    const key = await planted("key.pem", ca.keyPem);
    const scan = await scanCertificates([bundle, key], new Date(), 30);
    expect(scan.certificates.map((c) => c.path)).toEqual([bundle.path]);
    expect(scan.warnings).toEqual([]);
  });

  it("reports a damaged certificate by path and number only", async () => {
    const garbage = "-----BEGIN CERTIFICATE-----\nc2VjcmV0LWdhcmJhZ2U=\n-----END CERTIFICATE-----\n";
    const file = await planted("broken.crt", garbage);
    const scan = await scanCertificates([file], new Date(), 30);
    expect(scan.certificates).toEqual([]);
    expect(scan.warnings).toEqual([`${file.path}: certificate #1 could not be parsed`]);
  });
});

describe("excludeFilter", () => {
  it("matches absolute subtrees and base-name globs", () => {
    const excluded = excludeFilter(["/etc/piwardrive/cache/", "*.sw?", "backup-*.tar"]);
    expect(excluded("/etc/piwardrive/cache")).toBe(true);
    expect(excluded("/etc/piwardrive/cache/x")).toBe(true);
    expect(excluded("/etc/piwardrive/cachex")).toBe(false);
    expect(excluded("/etc/a/.config.swp")).toBe(true);
    expect(excluded("/etc/backup-1.tar")).toBe(true);
    expect(excluded("/etc/backup-1.tar.gz")).toBe(false);
  });
});
