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

  it("stages a pack in a data directory and leaves no temporary file after a commit or a discard", async () => {
    const b = await freshBackend();
    const temporaries = async () => {
      const found: string[] = [];
      for (const d of await readdir(join(b.root, "data")))
        for (const f of await readdir(join(b.root, "data", d))) if (f.startsWith(".tmp-")) found.push(f);
      return found;
    };
    const kept = await b.stage("data");
    await kept.append([Buffer.from("pack bytes")]);
    const dropped = await b.stage("data");
    await dropped.append([Buffer.from("abandoned")]);
    expect(await temporaries()).toHaveLength(2);
    await kept.commit("c".repeat(64));
    await dropped.discard();
    expect(await temporaries()).toEqual([]);
    expect((await b.load({ type: "data", name: "c".repeat(64) })).toString()).toBe("pack bytes");
  });

  it("removes a staged pack a crashed writer left behind", async () => {
    const b = await freshBackend();
    const abandoned = await b.stage("data");
    await abandoned.append([Buffer.from("half a pack")]);
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
