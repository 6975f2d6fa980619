import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { describe, expect, it } from "vitest";
import { LocalBackend } from "./local-backend.js";
import { runBackendSuite } from "./testing/backend-suite.js";

async function freshBackend(): Promise<LocalBackend> {
  const b = new LocalBackend(join(await makeTempDir("pwdr-backend-"), "repo"));
  await b.create();
  return b;
}

runBackendSuite("LocalBackend", freshBackend);

describe("LocalBackend", () => {
  it("leaves no temporary file after saves, ignores stray ones in listings and removes only old ones", async () => {
    const b = await freshBackend();
    await b.save({ type: "index", name: "a".repeat(64) }, Buffer.from("x"));
    expect((await readdir(join(b.root, "index"))).filter((f) => f.startsWith(".tmp-"))).toEqual([]);
    await writeFile(join(b.root, "index", ".tmp-deadbeef"), "half a file");
    const listed: string[] = [];
    for await (const f of b.list("index")) listed.push(f.name);
    expect(listed).toEqual(["a".repeat(64)]);
    expect(await b.removeTemporaryFiles()).toBe(0);
    expect(await b.removeTemporaryFiles(0)).toBe(1);
  });

  it("says there is no repository instead of creating one on save", async () => {
    const b = new LocalBackend(join(await makeTempDir("pwdr-backend-"), "missing"));
    await expect(b.save({ type: "index", name: "b".repeat(64) }, Buffer.from("x"))).rejects.toMatchObject({
      code: "repo_not_found",
    });
  });

  it("refuses to create over an existing repository", async () => {
    const b = await freshBackend();
    await b.save({ type: "config", name: "config" }, Buffer.from("{}"));
    await expect(b.create()).rejects.toMatchObject({ code: "repo_exists" });
  });
});
