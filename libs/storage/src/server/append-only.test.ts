import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Backup, listLocks, loadSnapshot, Repository, restoreSnapshot } from "@pwdr/repo";
import { makeTempDir } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StorageFixture, startFixture } from "../test-support/storage-fixture.js";

const PASSWORD = "fleet storage test password";
const FAST_KDF = { N: 1024, r: 8, p: 1 };
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

let fx: StorageFixture;

beforeAll(async () => {
  fx = await startFixture({
    repositories: ["host-a", "host-b"],
    grants: {
      controller: [
        { repository: "host-a", access: "admin" },
        { repository: "host-b", access: "admin" },
      ],
      "agent-a": [{ repository: "host-a", access: "append" }],
      "agent-a2": [{ repository: "host-a", access: "append" }],
      "agent-b": [{ repository: "host-b", access: "append" }],
      "replacement-a": [{ repository: "host-b", access: "read" }],
    },
  });
  const admin = await fx.client("controller", "host-a");
  await (await Repository.init(admin, PASSWORD, { kdf: FAST_KDF })).close();
  const adminB = await fx.client("controller", "host-b");
  await (await Repository.init(adminB, PASSWORD, { kdf: FAST_KDF })).close();
});

afterAll(() => fx.close());

async function sourceTree(): Promise<string> {
  const dir = join(makeTempDir("storage-source"), "etc-piwardrive");
  await mkdir(join(dir, "conf.d"), { recursive: true });
  await writeFile(join(dir, "app.env"), "MODE=production\n");
  await writeFile(join(dir, "conf.d", "scan.bin"), randomBytes(300_000));
  return dir;
}

describe("a host's agent with append access", () => {
  it("backs up through the server into a repository the controller created, and restores from it", async () => {
    const source = await sourceTree();
    const repo = await Repository.open(await fx.client("agent-a", "host-a"), PASSWORD);
    const backup = await Backup.start(repo, { host: "host-a" });
    await backup.addPath(source);
    const { id } = await backup.finish();

    const target = makeTempDir("storage-restore");
    await restoreSnapshot(repo, await loadSnapshot(repo, id), { target });
    for (const file of ["app.env", "conf.d/scan.bin"]) {
      expect((await readFile(join(target, source, file))).equals(await readFile(join(source, file)))).toBe(
        true,
      );
    }
    expect(await listLocks(repo)).toEqual([]);
    await repo.close();
  });

  it("lets two agents back up into one shared repository at the same time", async () => {
    const [first, second] = await Promise.all(
      ["agent-a", "agent-a2"].map(async (agent) => {
        const repo = await Repository.open(await fx.client(agent, "host-a"), PASSWORD);
        const backup = await Backup.start(repo, { host: agent });
        await backup.addPath(await sourceTree());
        const result = await backup.finish();
        await repo.close();
        return result;
      }),
    );
    expect(first?.id).not.toBe(second?.id);
  });

  it("saves new files and the same content again, but never other content under an existing name", async () => {
    const agent = await fx.client("agent-a", "host-a");
    const admin = await fx.client("controller", "host-a");
    const pack = randomBytes(5000);
    const handle = { type: "data" as const, name: sha256(pack) };
    await agent.save(handle, pack);
    await agent.save(handle, pack);
    expect((await agent.load(handle)).equals(pack)).toBe(true);

    const planted = { type: "index" as const, name: "c".repeat(64) };
    await admin.save(planted, Buffer.from("written by the controller"));
    await expect(agent.save(planted, Buffer.from("other"))).rejects.toMatchObject({ code: "access_denied" });
    await expect(agent.save({ type: "index", name: "d".repeat(64) }, Buffer.from("x"))).rejects.toMatchObject(
      {
        code: "access_denied",
        message: expect.stringContaining("SHA-256"),
      },
    );
    const other = Buffer.from("other content");
    await admin.save({ type: "snapshots", name: sha256(other) }, Buffer.from("squatted"));
    await expect(agent.save({ type: "snapshots", name: sha256(other) }, other)).rejects.toMatchObject({
      code: "access_denied",
      message: expect.stringContaining("already exists with different content"),
    });
  });

  it("cannot remove packs, indexes, snapshots or keys, nor write config or keys, nor create a repository", async () => {
    const agent = await fx.client("agent-a", "host-a");
    for (const type of ["data", "index", "snapshots"] as const) {
      const [first] = await collect(agent.list(type));
      expect(first, `host-a has ${type} files from the backup`).toBeDefined();
      await expect(agent.remove({ type, name: first?.name as string })).rejects.toMatchObject({
        code: "access_denied",
        exitCode: 24,
        retryable: false,
      });
      expect(await agent.stat({ type, name: first?.name as string })).toEqual(first);
    }
    const [key] = await collect(agent.list("keys"));
    await expect(agent.remove({ type: "keys", name: key?.name as string })).rejects.toMatchObject({
      code: "access_denied",
    });
    const config = await agent.load({ type: "config", name: "config" });
    await expect(agent.save({ type: "config", name: "config" }, config)).rejects.toMatchObject({
      code: "access_denied",
    });
    const newKey = Buffer.from("{}");
    await expect(agent.save({ type: "keys", name: sha256(newKey) }, newKey)).rejects.toMatchObject({
      code: "access_denied",
    });
    await expect(agent.create()).rejects.toMatchObject({ code: "access_denied" });
  });

  it("creates and removes its own locks, but not another client's", async () => {
    const mine = await fx.client("agent-a", "host-a");
    const theirs = await fx.client("agent-a2", "host-a");
    const lock = randomBytes(200);
    const handle = { type: "locks" as const, name: sha256(lock) };
    await theirs.save(handle, lock);
    await expect(mine.remove(handle)).rejects.toMatchObject({
      code: "access_denied",
      message: expect.stringContaining("another client"),
    });
    expect(await mine.stat(handle)).toBeDefined();
    await theirs.remove(handle);
    expect(await mine.stat(handle)).toBeUndefined();
    await mine.remove(handle);
  });

  it("cannot read, list or write another host's repository", async () => {
    const intruder = await fx.client("agent-a", "host-b");
    await expect(intruder.load({ type: "config", name: "config" })).rejects.toMatchObject({
      code: "access_denied",
    });
    await expect(collect(intruder.list("snapshots"))).rejects.toMatchObject({ code: "access_denied" });
    await expect(intruder.stat({ type: "config", name: "config" })).rejects.toMatchObject({
      code: "access_denied",
    });
    const data = randomBytes(100);
    await expect(intruder.save({ type: "data", name: sha256(data) }, data)).rejects.toMatchObject({
      code: "access_denied",
    });
  });

  it("lets the controller's admin access prune what agents cannot: remove packs", async () => {
    const admin = await fx.client("controller", "host-a");
    const data = randomBytes(100);
    const handle = { type: "data" as const, name: sha256(data) };
    await (await fx.client("agent-a", "host-a")).save(handle, data);
    await admin.remove(handle);
    expect(await admin.stat(handle)).toBeUndefined();
  });
});

describe("a DR replacement with read access to another host's repository", () => {
  it("restores that host's snapshot under its own lock, and writes nothing else", async () => {
    const writer = await Repository.open(await fx.client("agent-b", "host-b"), PASSWORD);
    const backup = await Backup.start(writer, { host: "host-b" });
    const source = await sourceTree();
    await backup.addPath(source);
    const { id } = await backup.finish();
    await writer.close();

    const reader = await fx.client("replacement-a", "host-b");
    const repo = await Repository.open(reader, PASSWORD);
    const target = makeTempDir("storage-dr-restore");
    await restoreSnapshot(repo, await loadSnapshot(repo, id), { target });
    expect((await readFile(join(target, source, "app.env"))).toString()).toBe("MODE=production\n");
    expect(await listLocks(repo)).toEqual([]);
    await repo.close();

    const data = randomBytes(100);
    await expect(reader.save({ type: "data", name: sha256(data) }, data)).rejects.toMatchObject({
      code: "access_denied",
      message: expect.stringContaining("read-only"),
    });
    const [snapshot] = await collect(reader.list("snapshots"));
    await expect(reader.remove({ type: "snapshots", name: snapshot?.name as string })).rejects.toMatchObject({
      code: "access_denied",
    });
    await expect(reader.create()).rejects.toMatchObject({ code: "access_denied" });
  });
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
