import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { describe, expect, it } from "vitest";
import { Backup } from "../archiver/archiver.js";
import { LocalBackend } from "../backend/local-backend.js";
import { seededBytes, tempRepository, withoutStaging } from "../test-support/fixtures.js";
import { readPackHeader } from "./pack-reader.js";
import { PackWriter } from "./pack-writer.js";

const KEY = Buffer.alloc(32, 7);

async function temporaryFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  for (const d of await readdir(join(root, "data")))
    for (const f of await readdir(join(root, "data", d))) if (f.startsWith(".tmp-")) found.push(f);
  return found;
}

async function writePack(backend: ConstructorParameters<typeof PackWriter>[1], envelopes: Buffer[][]) {
  const writer = new PackWriter(KEY, backend);
  await Promise.all(
    envelopes.map((e, i) => writer.add({ type: "data", id: `${i}`.padStart(64, "0"), rawLength: 1 }, e)),
  );
  return writer.write();
}

describe("PackWriter", () => {
  const envelopes = () => [
    [seededBytes("a", 100_000)],
    [seededBytes("b", 10), seededBytes("c", 300_000)],
    [seededBytes("d", 5)],
  ];

  it("writes the same pack staged on disk as buffered in memory", async () => {
    const root = join(await makeTempDir("pwdr-pack-"), "repo");
    const local = new LocalBackend(root);
    await local.create();
    const blobs = Buffer.concat(envelopes().flat());
    for (const backend of [local, withoutStaging(local)]) {
      const pack = await writePack(backend, envelopes());
      // The header's nonce is random, so packs differ there; blobs, entries and size do not.
      const bytes = await local.load({ type: "data", name: pack.id });
      expect(bytes.length).toBe(pack.size);
      expect(bytes.subarray(0, blobs.length).equals(blobs)).toBe(true);
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(pack.id);
      expect(await readPackHeader(local, KEY, pack.id)).toEqual(pack.entries);
    }
    expect(await temporaryFiles(root)).toEqual([]);
  });

  it("frees the envelopes it has put on disk", async () => {
    const root = join(await makeTempDir("pwdr-pack-"), "repo");
    const local = new LocalBackend(root);
    await local.create();
    const big = Buffer.from(seededBytes("big", 200_000));
    const writer = new PackWriter(KEY, local);
    await writer.add({ type: "data", id: "1".padStart(64, "0"), rawLength: 1 }, [big]);
    expect(big.buffer.byteLength).toBe(0);
    await writer.write();
  });

  it("leaves no temporary file when a backup is aborted with a pack half filled", async () => {
    const { repo, root } = await tempRepository({ packSize: 64 * 1024 * 1024 });
    const backup = await Backup.start(repo, { host: "abort-test" });
    async function* dump() {
      yield seededBytes("dump", 3_000_000);
    }
    await backup.addStream("/dump.bin", dump());
    expect(await temporaryFiles(root)).toHaveLength(1);
    await backup.abort();
    expect(await temporaryFiles(root)).toEqual([]);
    await repo.close();
  });
});
