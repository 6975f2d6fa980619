// Found while writing the race tests: check and prune's planning phase read
// the index files first and list the snapshots afterwards. Both take only a
// shared lock, so a backup on another host may finish in between (§11:
// backup, restore and check share the repository). Its snapshot is then
// listed but its index, written just before it (§8), was never read: its
// trees and chunks look missing.
//
// - checkRepository (checker/check-repository.ts runCheck: checkIndexes,
//   then checkPacks, then checkSnapshots' listSnapshots) reports
//   `blobs_missing` errors for a healthy repository, so `check` exits with
//   check_failed (21) and names the new snapshot as damaged.
// - prune (pruner/inventory.ts takeInventory: readIndexFiles, then
//   walkSnapshots' listSnapshots; run under the shared lock in prune.ts)
//   fails with blob_missing ("needs blob …, which no index lists; nothing
//   was deleted; run `check`"). Safe, but a spurious failure that sends the
//   operator to a `check` that fails as well.
//
// A fix: list the snapshots before reading the indexes (an index is always
// written before the snapshots that need it), or read the index files again
// when a snapshot's blobs are not found and only then report them.
//
// The backup here runs in another process (race-worker.ts) and is held at
// its very end by a barrier file; a backend hook releases it at the moment
// the checker or pruner lists the snapshots, which is what any unlucky
// timing does.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { afterEach, describe, expect, it } from "vitest";
import { Backup } from "../archiver/archiver.js";
import type { FileInfo, FileType } from "../backend/backend.js";
import { LocalBackend } from "../backend/local-backend.js";
import { checkRepository } from "../checker/check-repository.js";
import { prune } from "../pruner/prune.js";
import { Repository } from "../repository.js";
import { PASSWORD, seededBytes, tempRepository } from "../test-support/fixtures.js";
import {
  openFresh,
  smallParams,
  startWorker,
  stopWorkers,
  type Worker,
  waitForWorker,
} from "../test-support/robustness-helpers.js";

/** Runs `beforeSnapshotList` once, the first time snapshots are listed. */
class HookedBackend extends LocalBackend {
  beforeSnapshotList: (() => Promise<void>) | undefined;

  override async *list(type: FileType): AsyncIterable<FileInfo> {
    if (type === "snapshots" && this.beforeSnapshotList) {
      const hook = this.beforeSnapshotList;
      this.beforeSnapshotList = undefined;
      await hook();
    }
    yield* super.list(type);
  }
}

/** A repository with one snapshot, and a second backup (another host) held just before `finish`. */
async function setUp(): Promise<{ root: string; backup: Worker; finish: () => Promise<void> }> {
  const { root, repo } = await tempRepository(smallParams("e4"));
  const base = makeTempDir("robust-check-race");
  const source = join(base, "src");
  await mkdir(source);
  for (let i = 0; i < 4; i++) await writeFile(join(source, `old${i}`), seededBytes(`old${i}`, 100_000));
  const first = await Backup.start(repo, { host: "host-a" });
  await first.addPath(source);
  await first.finish();
  await repo.close();
  for (let i = 0; i < 4; i++) await writeFile(join(source, `new${i}`), seededBytes(`new${i}`, 100_000));
  const backup = startWorker({
    OP: "backup",
    REPO: root,
    HOST: "host-b",
    SOURCES: JSON.stringify([source]),
    ADDED_FILE: join(base, "added"),
    FINISH_FILE: join(base, "finish"),
  });
  await waitForWorker(backup, join(base, "added"));
  const finish = async () => {
    await writeFile(join(base, "finish"), "");
    const out = await backup.output;
    expect(out.ok, out.message).toBe(true);
  };
  return { root, backup, finish };
}

describe("a backup finishing while check or prune runs", () => {
  afterEach(stopWorkers);

  it("check reports no errors for a healthy repository", async () => {
    const { root, finish } = await setUp();
    const backend = new HookedBackend(root);
    const repo = await Repository.open(backend, PASSWORD);
    backend.beforeSnapshotList = finish;
    const report = await checkRepository(repo);
    await repo.close();

    // The repository is fine: checked again afterwards, nothing is wrong.
    const again = await openFresh(root);
    expect((await checkRepository(again, { readData: "all" })).errors).toEqual([]);
    await again.close();
    expect({
      errors: report.errors.map((e) => `${e.kind}: ${e.message}`),
      damagedSnapshots: report.damagedSnapshots,
    }).toEqual({ errors: [], damagedSnapshots: [] });
  });

  it("prune does not fail", async () => {
    const { root, finish } = await setUp();
    const backend = new HookedBackend(root);
    const repo = await Repository.open(backend, PASSWORD);
    backend.beforeSnapshotList = finish;
    const outcome = await prune(repo).then(
      () => "pruned",
      (err: Error) => `failed: ${err.message}`,
    );
    await repo.close();

    const again = await openFresh(root);
    expect((await checkRepository(again, { readData: "all" })).errors).toEqual([]);
    await again.close();
    expect(outcome).toBe("pruned");
  });
});
