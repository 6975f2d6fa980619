import { describe, expect, it } from "vitest";
import { isRepoError } from "../errors.js";
import { open, seal } from "./envelope.js";
import { unwrapMasterKey, wrapMasterKey } from "./key-file.js";
import { blobId, generateMasterKey } from "./master-key.js";

const FAST = { N: 1024, r: 8, p: 1 };

describe("envelope", () => {
  const key = generateMasterKey().encKey;
  const aad = Buffer.from("snapshot");

  it("round-trips and uses a fresh nonce each time", () => {
    const a = seal(key, Buffer.from("hello"), aad);
    const b = seal(key, Buffer.from("hello"), aad);
    expect(a.equals(b)).toBe(false);
    expect(open(key, a, aad, "x").toString()).toBe("hello");
  });

  it("reports any flipped bit, a wrong AAD, a wrong key and truncation as corruption", () => {
    const env = seal(key, Buffer.from("payload"), aad);
    for (let i = 0; i < env.length; i++) {
      const bad = Buffer.from(env);
      bad[i] = (bad[i] as number) ^ 0x01;
      expect(() => open(key, bad, aad, "x")).toThrow(/failed authentication/);
    }
    expect(() => open(key, env, Buffer.from("index"), "x")).toThrow(/failed authentication/);
    expect(() => open(generateMasterKey().encKey, env, aad, "x")).toThrow(/failed authentication/);
    const err = (() => {
      try {
        open(key, env.subarray(0, 10), aad, "snapshot abc");
      } catch (e) {
        return e;
      }
    })();
    expect(isRepoError(err, "data_corrupt")).toBe(true);
    expect((err as Error).message).toContain("snapshot abc is truncated");
  });
});

describe("key files", () => {
  it("unwrap with the right password and refuse a wrong one", async () => {
    const master = generateMasterKey();
    const file = await wrapMasterKey(master, "s3cret", FAST);
    expect(JSON.stringify(file)).not.toContain(master.encKey.toString("base64"));
    const back = await unwrapMasterKey(file, "s3cret");
    expect(back?.encKey.equals(master.encKey)).toBe(true);
    expect(back?.idKey.equals(master.idKey)).toBe(true);
    expect(await unwrapMasterKey(file, "S3cret")).toBeUndefined();
  });
});

describe("blob ids", () => {
  it("depend on the repository's id key, not only on the content", () => {
    const data = Buffer.from("same content");
    const a = blobId(generateMasterKey().idKey, data);
    const b = blobId(generateMasterKey().idKey, data);
    expect(a.equals(b)).toBe(false);
  });
});
