import { randomBytes } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import { makeTempDir } from "@pwdr/test-harness";
import { describe, expect, it } from "vitest";
import { loadOrCreateMasterKey, MasterKeyError, masterKeyPath } from "./master-key.js";
import { SealedPasswordError, sealPassword, unsealPassword } from "./sealed-password.js";

describe("controller master key", () => {
  it("is created 0600 on first start and the same key afterwards", async () => {
    const dir = await makeTempDir("pwdr-master-key-");
    const first = await loadOrCreateMasterKey(dir);
    expect((await stat(masterKeyPath(dir))).mode & 0o777).toBe(0o600);
    const again = await loadOrCreateMasterKey(dir);
    expect(again.key.equals(first.key)).toBe(true);
    expect(again.id).toBe(first.id);
    expect(first.id).not.toContain(first.key.toString("base64"));
  });

  it("two controllers starting at once end up with one key", async () => {
    const dir = await makeTempDir("pwdr-master-key-");
    const [a, b] = await Promise.all([loadOrCreateMasterKey(dir), loadOrCreateMasterKey(dir)]);
    expect(a.key.equals(b.key)).toBe(true);
  });

  it("refuses a file that is not a key instead of making a new one", async () => {
    const dir = await makeTempDir("pwdr-master-key-");
    await loadOrCreateMasterKey(dir);
    await writeFile(masterKeyPath(dir), "short\n");
    await expect(loadOrCreateMasterKey(dir)).rejects.toBeInstanceOf(MasterKeyError);
    expect(await readFile(masterKeyPath(dir), "utf8")).toBe("short\n");
  });
});

describe("sealed repository passwords", () => {
  const key = { id: "mk-test", key: randomBytes(32) };

  it("round-trip, and the ciphertext does not hold the password", () => {
    const sealed = sealPassword(key, "repo-a", "correct horse battery staple");
    expect(Buffer.from(sealed.ciphertext).includes("correct horse")).toBe(false);
    expect(sealed.keyId).toBe("mk-test");
    expect(unsealPassword(key, "repo-a", sealed)).toBe("correct horse battery staple");
  });

  it("do not open under another repository's name (a ciphertext copied to another row)", () => {
    const sealed = sealPassword(key, "repo-a", "secret");
    expect(() => unsealPassword(key, "repo-b", sealed)).toThrow(SealedPasswordError);
  });

  it("name the key they need when the controller has another one", () => {
    const sealed = sealPassword(key, "repo-a", "secret");
    const other = { id: "mk-other", key: randomBytes(32) };
    expect(() => unsealPassword(other, "repo-a", sealed)).toThrow(/sealed with master key mk-test/);
  });

  it("refuse altered bytes", () => {
    const sealed = sealPassword(key, "repo-a", "secret");
    const altered = Buffer.from(sealed.ciphertext);
    altered[20] = (altered[20] ?? 0) ^ 1;
    expect(() => unsealPassword(key, "repo-a", { ...sealed, ciphertext: altered })).toThrow(
      /does not decrypt/,
    );
  });
});
