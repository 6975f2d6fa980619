import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { writePrivateKeyFile } from "./index.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "pwdr-pki-keyfile-"));
  dirs.push(dir);
  return dir;
}

describe("writePrivateKeyFile", () => {
  it("writes the key with mode 0600", async () => {
    const path = join(freshDir(), "agent.key");
    await writePrivateKeyFile(path, "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, "utf8")).toContain("abc");
  });

  it("replaces a readable key file with a 0600 one and leaves no temporary file behind", async () => {
    const dir = freshDir();
    const path = join(dir, "agent.key");
    writeFileSync(path, "old", { mode: 0o644 });
    await writePrivateKeyFile(path, "new");
    expect(readFileSync(path, "utf8")).toBe("new");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(["agent.key"]);
  });

  it("fails without leaving a partial file when the directory does not exist", async () => {
    const dir = freshDir();
    await expect(writePrivateKeyFile(join(dir, "missing", "agent.key"), "key")).rejects.toMatchObject({
      code: "ENOENT",
    });
    expect(readdirSync(dir)).toEqual([]);
  });
});
