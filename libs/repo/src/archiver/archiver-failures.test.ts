import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { describe, expect, it } from "vitest";
import { FaultyBackend, noSpace } from "../backend/testing/faulty-backend.js";
import { Repository } from "../repository.js";
import { listSnapshots } from "../snapshot/snapshot.js";
import { PASSWORD, seededBytes, tempRepository } from "../test-support/fixtures.js";
import { findNode, splitPath } from "../tree/tree-io.js";
import { Backup } from "./archiver.js";

async function tree(files: number): Promise<string> {
  const root = join(await makeTempDir("pwdr-fail-"), "src");
  await mkdir(root, { recursive: true });
  for (let i = 0; i < files; i++) await writeFile(join(root, `f${i}.bin`), seededBytes(`f${i}`, 300_000));
  return root;
}

describe("archiver failure paths", () => {
  it("stops cleanly on ENOSPC: no snapshot, earlier snapshots intact, the next backup succeeds", async () => {
    const { backend } = await tempRepository({ packSize: 512 * 1024 });
    const src = await tree(8);
    const good = await Repository.open(backend, PASSWORD);
    const first = await Backup.start(good, {});
    await first.addPath(src);
    await first.finish();
    await good.close();

    await writeFile(join(src, "new.bin"), seededBytes("new", 2_000_000));
    const faulty = await Repository.open(
      new FaultyBackend(backend, [{ method: "save", type: "data", nth: 2, sticky: true, error: noSpace }]),
      PASSWORD,
    );
    const failing = await Backup.start(faulty, {});
    const err = await failing
      .addPath(src)
      .then(() => failing.finish())
      .catch((e: unknown) => e);
    await faulty.close();
    expect(err).toMatchObject({ code: "no_space", exitCode: 15 });

    const after = await Repository.open(backend, PASSWORD);
    await after.loadIndex();
    const snaps = await listSnapshots(after);
    expect(snaps).toHaveLength(1);
    const node = await findNode(after, (snaps[0] as { tree: string }).tree, splitPath(`${src}/f3.bin`));
    const bytes = Buffer.concat(await Promise.all((node?.content ?? []).map((id) => after.loadBlob(id))));
    expect(bytes.equals(seededBytes("f3", 300_000))).toBe(true);

    const retry = await Backup.start(after, {});
    await retry.addPath(src);
    const done = await retry.finish();
    expect(done.snapshot.summary.files).toBe(9);
    await after.close();
  });

  it("fails with no_space from deep in a tree of directories; the next backup succeeds", async () => {
    const { backend } = await tempRepository({ packSize: 256 * 1024 });
    const src = join(await makeTempDir("pwdr-fail-"), "src");
    for (let d = 0; d < 6; d++) {
      for (let f = 0; f < 4; f++) {
        await mkdir(join(src, `d${d}`, "sub"), { recursive: true });
        await writeFile(join(src, `d${d}`, "sub", `f${f}.bin`), seededBytes(`${d}/${f}`, 120_000));
      }
    }
    const faulty = await Repository.open(
      new FaultyBackend(backend, [{ method: "save", type: "data", nth: 3, sticky: true, error: noSpace }]),
      PASSWORD,
    );
    const failing = await Backup.start(faulty, {});
    const err = await failing.addPath(src).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "no_space" });
    await failing.abort();
    await faulty.close();
    const after = await Repository.open(backend, PASSWORD);
    expect(await listSnapshots(after)).toHaveLength(0);
    const retry = await Backup.start(after, {});
    await retry.addPath(src);
    expect((await retry.finish()).snapshot.summary.files).toBe(24);
    await after.close();
  });
});
