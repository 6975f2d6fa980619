import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { describe, expect, it } from "vitest";
import { LocalBackend } from "./backend/local-backend.js";
import { isRepoError } from "./errors.js";
import { FORMAT_VERSION } from "./repo-config.js";
import { addKey, listKeys, removeKey } from "./repo-keys.js";
import { Repository } from "./repository.js";
import { FAST_KDF, PASSWORD, seededBytes, tempRepository } from "./test-support/fixtures.js";

async function packFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(join(root, "data"))) {
    for (const f of await readdir(join(root, "data", d))) out.push(join(root, "data", d, f));
  }
  return out;
}

describe("repository", () => {
  it("opens with its password and refuses a wrong one with wrong_password", async () => {
    const { backend, repo } = await tempRepository();
    const reopened = await Repository.open(backend, PASSWORD);
    expect(reopened.id).toBe(repo.id);
    expect(reopened.params).toEqual(repo.params);
    await expect(Repository.open(backend, "nope")).rejects.toMatchObject({
      code: "wrong_password",
      exitCode: 11,
    });
  });

  it("says so when there is no repository, and refuses a newer format without writing", async () => {
    const empty = new LocalBackend(join(await makeTempDir("pwdr-none-"), "missing"));
    await expect(Repository.open(empty, PASSWORD)).rejects.toMatchObject({
      code: "repo_not_found",
      exitCode: 10,
    });
    const { backend, root } = await tempRepository();
    const config = JSON.parse(await readFile(join(root, "config"), "utf8"));
    await writeFile(join(root, "config"), JSON.stringify({ ...config, version: FORMAT_VERSION + 1 }));
    await expect(Repository.open(backend, PASSWORD)).rejects.toMatchObject({
      code: "repo_format_newer",
      exitCode: 12,
    });
    await expect(Repository.init(backend, PASSWORD, { kdf: FAST_KDF })).rejects.toMatchObject({
      code: "repo_exists",
    });
  });

  it("stores blobs once, packs them, and reads them back after reopening", async () => {
    const { backend, repo } = await tempRepository({ packSize: 256 * 1024 });
    const session = repo.startWrite();
    const blobs = Array.from({ length: 40 }, (_, i) => seededBytes(`b${i}`, 20_000 + i));
    const ids: string[] = [];
    for (const b of blobs) ids.push((await session.saveBlob("data", b)).id);
    expect((await session.saveBlob("data", blobs[0] as Buffer)).added).toBe(0);
    const indexName = await session.flush();
    expect(indexName).toMatch(/^[0-9a-f]{64}$/);
    expect(session.stats.packsWritten).toBeGreaterThan(1);

    const reopened = await Repository.open(backend, PASSWORD);
    await reopened.loadIndex();
    for (const [i, id] of ids.entries())
      expect((await reopened.loadBlob(id)).equals(blobs[i] as Buffer)).toBe(true);
  });

  it("indexes written packs in batches during a session, and reads none of its own indexes back", async () => {
    const { backend, repo, root } = await tempRepository({ packSize: 64 * 1024 });
    const session = repo.startWrite({ indexBatchBlobs: 4 });
    const blobs = Array.from({ length: 24 }, (_, i) => seededBytes(`i${i}`, 30_000));
    const ids: string[] = [];
    for (const b of blobs) ids.push((await session.saveBlob("data", b)).id);
    // Before flush: packs holding a batch of blobs get indexed, so a crash here loses no index.
    const deadline = Date.now() + 10_000;
    while ((await readdir(join(root, "index"))).length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect((await readdir(join(root, "index"))).length).toBeGreaterThan(1);
    expect((await session.saveBlob("data", blobs[0] as Buffer)).added).toBe(0);
    const last = await session.flush();
    const all = await readdir(join(root, "index"));
    expect(all).toContain(last);

    const list = backend.list.bind(backend);
    let indexesListed = 0;
    backend.list = (type) => {
      if (type === "index") indexesListed++;
      return list(type);
    };
    const loadJson = repo.loadJson.bind(repo);
    const reread: string[] = [];
    repo.loadJson = (type, name) => {
      if (type === "index") reread.push(name);
      return loadJson(type, name);
    };
    await repo.loadIndex();
    expect(indexesListed).toBe(1);
    expect(reread).toEqual([]);

    const reopened = await Repository.open(backend, PASSWORD);
    await reopened.loadIndex();
    expect(reopened.index.blobCount).toBe(24);
    for (const [i, id] of ids.entries())
      expect((await reopened.loadBlob(id)).equals(blobs[i] as Buffer)).toBe(true);
  });

  it("compresses compressible blobs and stores incompressible ones as they are", async () => {
    const { repo } = await tempRepository();
    const session = repo.startWrite();
    const text = Buffer.from("wifi,aa:bb:cc:dd:ee:ff,-61,2437\n".repeat(4000));
    const noise = seededBytes("noise", 128_000);
    const t = await session.saveBlob("data", text);
    const n = await session.saveBlob("data", noise);
    expect(t.added).toBeLessThan(text.length / 10);
    expect(n.added).toBeGreaterThan(noise.length);
    expect(n.added).toBeLessThan(noise.length + 64);
  });

  it("never returns damaged bytes: a flipped bit in a pack is data_corrupt", async () => {
    const { backend, repo, root } = await tempRepository();
    const session = repo.startWrite();
    const { id } = await session.saveBlob("data", seededBytes("x", 50_000));
    await session.flush();
    const [pack] = await packFiles(root);
    const bytes = await readFile(pack as string);
    bytes[100] = (bytes[100] as number) ^ 0x80;
    await writeFile(pack as string, bytes);
    const reopened = await Repository.open(backend, PASSWORD);
    await reopened.loadIndex();
    const err = await reopened.loadBlob(id).catch((e: unknown) => e);
    expect(isRepoError(err, "data_corrupt")).toBe(true);
  });

  it("adopts packs a crashed writer left without an index", async () => {
    const { backend, repo } = await tempRepository({ packSize: 64 * 1024 });
    const crashed = repo.startWrite();
    const blobs = Array.from({ length: 10 }, (_, i) => seededBytes(`c${i}`, 30_000));
    for (const b of blobs) await crashed.saveBlob("data", b);
    // The writer dies here: full packs were saved, its index never was.
    await new Promise((r) => setTimeout(r, 50));

    const next = await Repository.open(backend, PASSWORD);
    await next.loadIndex();
    const session = next.startWrite();
    expect(await session.adoptUnindexedPacks()).toBeGreaterThan(0);
    let reused = 0;
    for (const b of blobs) if ((await session.saveBlob("data", b)).added === 0) reused++;
    expect(reused).toBeGreaterThan(0);
    await session.flush();
    const fresh = await Repository.open(backend, PASSWORD);
    await fresh.loadIndex();
    for (const b of blobs) expect((await fresh.loadBlob(fresh.blobId(b))).equals(b)).toBe(true);
  });

  it("manages several keys and never removes the last one", async () => {
    const { backend, repo } = await tempRepository();
    const [first] = await listKeys(backend);
    const second = await addKey(backend, repo.key, "other password", FAST_KDF);
    expect((await Repository.open(backend, "other password")).id).toBe(repo.id);
    await removeKey(backend, first?.name as string);
    await expect(Repository.open(backend, PASSWORD)).rejects.toMatchObject({ code: "wrong_password" });
    await expect(removeKey(backend, second)).rejects.toMatchObject({ code: "last_key" });
  });
});
