import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

export interface OpensslResult {
  status: number | null;
  output: string;
}

const workDir = mkdtempSync(join(tmpdir(), "pwdr-pki-test-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** Writes `content` to a scratch file and returns its path, for openssl arguments. */
export function scratchFile(name: string, content: string): string {
  const path = join(workDir, name);
  writeFileSync(path, content);
  return path;
}

export function scratchPath(name: string): string {
  return join(workDir, name);
}

export function openssl(...args: string[]): OpensslResult {
  const result = spawnSync("openssl", args, { encoding: "utf8" });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** `openssl verify` with only `caPem` trusted and the given purpose enforced. */
export function opensslVerify(
  caPem: string,
  certPem: string,
  purpose: "sslserver" | "sslclient",
): OpensslResult {
  return openssl(
    "verify",
    "-x509_strict",
    "-purpose",
    purpose,
    "-CAfile",
    scratchFile(`ca-${Math.random()}.pem`, caPem),
    scratchFile(`cert-${Math.random()}.pem`, certPem),
  );
}
