// Found while writing the race tests: a restore takes no lock. The spec's
// glossary (docs/repository-format.md §1, "Lock") says restore, like backup
// and check, holds a shared lock, so that prune's deletion phase waits for
// it. restoreSnapshot (restorer/restorer.ts) takes none (its ReadRepository
// type cannot even reach the backend), and neither does the CLI's `restore`
// (apps/agent/src/commands/restore.ts). So a prune that runs meanwhile,
// after forgetting *other* snapshots, repacks the packs the restore is
// reading and deletes the originals: the restore of a snapshot that is kept
// fails half-way with blob_missing (the restorer's index, read at its start,
// knows only the old packs).
//
// The prune here runs at a fixed point (the restore's first pack read) in
// another Repository object; if the restore held its shared lock, prune
// would wait for it (and, given a short exclusiveLockWaitMs, give up with
// repo_locked), and the restore would complete.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { describe, expect, it } from "vitest";
import { Backup } from "../archiver/archiver.js";
import type { FileHandle } from "../backend/backend.js";
import { LocalBackend } from "../backend/local-backend.js";
import { forget } from "../forget/forget.js";
import { prune } from "../pruner/prune.js";
import { Repository } from "../repository.js";
import { restoreSnapshot } from "../restorer/restorer.js";
import { listSnapshots, loadSnapshot } from "../snapshot/snapshot.js";
import { describeTree } from "../test-support/disk-tree.js";
import { PASSWORD, seededBytes, tempRepository } from "../test-support/fixtures.js";
import { diffTreesTolerant, openFresh, smallParams } from "../test-support/robustness-helpers.js";

/** Runs `beforeFirstPackRead` once, before the first read of a pack file. */
class HookedBackend extends LocalBackend {
  beforeFirstPackRead: (() => Promise<void>) | undefined;

  override async load(handle: FileHandle, range?: { offset: number; length: number }): Promise<Buffer> {
    if (handle.type === "data" && this.beforeFirstPackRead) {
      const hook = this.beforeFirstPackRead;
      this.beforeFirstPackRead = undefined;
      await hook();
    }
    return super.load(handle, range);
  }
}

describe("a restore while prune runs", () => {
  it("completes: prune waits for it (restore holds a shared lock)", async () => {
    const { root, repo } = await tempRepository(smallParams("c8"));
    const source = join(makeTempDir("robust-restore-prune"), "src");
    await mkdir(source);
    // S1 has a0..a5; S2 keeps half of them. Forgetting S1 leaves every pack partly used.
    for (let i = 0; i < 6; i++) await writeFile(join(source, `a${i}`), seededBytes(`a${i}`, 90_000));
    for (const drop of [[], [1, 3, 5]]) {
      for (const i of drop) await rm(join(source, `a${i}`));
      const b = await Backup.start(repo, { host: "h" });
      await b.addPath(source);
      await b.finish();
    }
    const expected = await describeTree(source);
    await forget(repo, { keepLast: 1 });
    const [kept] = await listSnapshots(repo);
    await repo.close();

    const backend = new HookedBackend(root);
    const restoring = await Repository.open(backend, PASSWORD);
    let pruneOutcome = "not run";
    backend.beforeFirstPackRead = async () => {
      const other = await openFresh(root);
      pruneOutcome = await prune(other, { maxUnused: { percent: 0 }, exclusiveLockWaitMs: 1500 }).then(
        (r) => `pruned: ${r.plan.repackPacks.length} packs repacked, ${r.packsDeleted} deleted`,
        (err: Error & { code?: string }) => `prune stopped: ${err.code}`,
      );
      await other.close();
    };
    const target = makeTempDir("robust-restore-prune-target");
    const outcome = await restoreSnapshot(restoring, await loadSnapshot(restoring, kept?.id as string), {
      target,
    }).then(
      () => "restored",
      (err: Error & { code?: string }) => `restore failed (${err.code}): ${err.message}`,
    );
    await restoring.close();
    console.log(`prune meanwhile: ${pruneOutcome}`);
    expect(outcome).toBe("restored");
    expect(diffTreesTolerant(expected, await describeTree(join(target, source)))).toEqual([]);
  });
});
