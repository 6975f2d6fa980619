// Found by the robustness tests: a restored mtime can be more than 1 µs
// early, outside the window the restorer itself uses to call an mtime the
// same (restore-fs.ts sameMtime: |Δ| < 1000 ns).
//
// restore-fs.ts mtimeSeconds turns the snapshot's nanoseconds into a double
// of seconds; near the current epoch a double resolves only ~0.24 µs, so
// 1700000000.000001001 s becomes 1700000000.0000009537… Node's utimes hands
// that to libuv, which truncates to whole microseconds (uv__fs_to_timespec:
// tv_nsec -= tv_nsec % 1000), giving …000000000 ns: 1001 ns early. Files
// written by the kernel carry arbitrary nanoseconds, so this hits a large
// share of real files. Consequence: `restore --overwrite if-changed` over a
// tree it just restored does not recognise those files as unchanged; it
// reads and compares them and rewrites their metadata, every time.
// A fix: pass utimes the whole microseconds plus half a microsecond
// (Number(ns / 1000n) / 1e6 + 5e-7 style), so libuv's truncation lands on
// the snapshot's microsecond: then |Δ| < 1000 ns always.
import { execFileSync } from "node:child_process";
import { lstat, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { describe, expect, it } from "vitest";
import { Backup } from "../archiver/archiver.js";
import { type RestoreItem, restoreSnapshot } from "../restorer/restorer.js";
import { loadSnapshot } from "../snapshot/snapshot.js";
import { tempRepository } from "../test-support/fixtures.js";

const MTIME_NS = 1_700_000_000_000_001_001n;

describe("restored mtimes", () => {
  it("are within 1 µs of the snapshot's, so if-changed sees a just-restored file as unchanged", async () => {
    const { repo } = await tempRepository();
    const source = join(makeTempDir("robust-mtime"), "src");
    await mkdir(source);
    const file = join(source, "f.txt");
    await writeFile(file, "a file with a nanosecond mtime\n");
    // GNU touch sets nanoseconds (utimensat); Node's utimes cannot.
    execFileSync("touch", ["-m", "-d", "@1700000000.000001001", file]);
    expect((await lstat(file, { bigint: true })).mtimeNs).toBe(MTIME_NS);

    const backup = await Backup.start(repo);
    await backup.addPath(source);
    const snapshot = await loadSnapshot(repo, (await backup.finish()).id);
    const target = makeTempDir("robust-mtime-target");
    await restoreSnapshot(repo, snapshot, { target });
    const restored = join(target, file);

    const items: RestoreItem[] = [];
    await restoreSnapshot(repo, snapshot, {
      target,
      overwrite: "if-changed",
      onItem: (item) => items.push(item),
    });
    await repo.close();
    const again = items.find((i) => i.targetPath.toString().endsWith("/f.txt"));
    const delta = (await lstat(restored, { bigint: true })).mtimeNs - MTIME_NS;
    expect({ deltaNsWithin1us: delta > -1000n && delta < 1000n, secondRestore: again?.action }).toEqual({
      deltaNsWithin1us: true,
      secondRestore: "unchanged",
    });
  });
});
