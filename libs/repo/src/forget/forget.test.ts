import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { acquireLock } from "../lock/acquire-lock.js";
import type { Repository } from "../repository.js";
import { listSnapshots, type Snapshot } from "../snapshot/snapshot.js";
import { seededBytes, tempRepository } from "../test-support/fixtures.js";
import { buildSnapshot } from "../test-support/snapshot-builder.js";
import { forget } from "./forget.js";
import { groupSnapshots } from "./group-snapshots.js";

async function fill(repo: Repository) {
  const ids: Record<string, string> = {};
  for (const [name, host, day] of [
    ["a1", "pi-a", "01"],
    ["a2", "pi-a", "02"],
    ["a3", "pi-a", "03"],
    ["b1", "pi-b", "01"],
    ["b2", "pi-b", "02"],
  ] as const) {
    ids[name] = (
      await buildSnapshot(
        repo,
        { [`/data/${name}`]: seededBytes(name, 1000) },
        { host, time: `2024-01-${day}T12:00:00Z` },
      )
    ).id;
  }
  return ids;
}

describe("forget", () => {
  it("shows per group why each snapshot is kept, and a dry run removes nothing", async () => {
    const { repo, root } = await tempRepository();
    const ids = await fill(repo);
    const result = await forget(repo, { keepLast: 1 }, { dryRun: true });
    expect(
      result.groups.map((g) => [g.key.host, g.decisions.map((d) => [d.snapshot.id, d.keep, d.reasons])]),
    ).toEqual([
      [
        "pi-a",
        [
          [ids.a3, true, ["last snapshot"]],
          [ids.a2, false, []],
          [ids.a1, false, []],
        ],
      ],
      [
        "pi-b",
        [
          [ids.b2, true, ["last snapshot"]],
          [ids.b1, false, []],
        ],
      ],
    ]);
    expect(result.removed).toEqual([]);
    expect(await readdir(join(root, "snapshots"))).toHaveLength(5);
  });

  it("removes only the snapshot files the policy does not keep", async () => {
    const { repo, root } = await tempRepository();
    const ids = await fill(repo);
    const packsBefore = await readdir(join(root, "index"));
    const events: number[] = [];
    const result = await forget(repo, { keepLast: 1 }, { onProgress: (e) => events.push(e.done) });
    expect(result.removed.sort()).toEqual([ids.a1, ids.a2, ids.b1].sort());
    expect((await listSnapshots(repo)).map((s) => s.id).sort()).toEqual([ids.a3, ids.b2].sort());
    expect(await readdir(join(root, "index"))).toEqual(packsBefore);
    expect(await readdir(join(root, "locks"))).toEqual([]);
    expect(events).toEqual([1, 2, 3]);
  });

  it("considers only snapshots matching the filter, and can group by host alone", async () => {
    const { repo } = await tempRepository();
    const ids = await fill(repo);
    const filtered = await forget(repo, { keepLast: 1 }, { filter: { host: "pi-b" }, dryRun: true });
    expect(
      filtered.groups.flatMap((g) => g.decisions.filter((d) => !d.keep).map((d) => d.snapshot.id)),
    ).toEqual([ids.b1]);
    const byHost = await forget(repo, { keepLast: 2 }, { groupBy: "host", dryRun: true });
    expect(byHost.groups.map((g) => g.key)).toEqual([{ host: "pi-a" }, { host: "pi-b" }]);
  });

  it("never forgets a snapshot it cannot read, and refuses an empty policy before locking", async () => {
    const { repo, root } = await tempRepository();
    await fill(repo);
    const junk = "cd".repeat(32);
    await writeFile(join(root, "snapshots", junk), "not a snapshot");
    const result = await forget(repo, { keepLast: 1 });
    expect(result.unreadable).toEqual([junk]);
    expect(result.removed).not.toContain(junk);
    expect(await readdir(join(root, "snapshots"))).toContain(junk);

    const held = await acquireLock(repo, { exclusive: true, operation: "prune" });
    await expect(forget(repo, {})).rejects.toMatchObject({ code: "invalid_argument" });
    await expect(forget(repo, { keepLast: 1 })).rejects.toMatchObject({ code: "repo_locked" });
    await held.release();
  });

  it("groups by host, source and the set of paths, whatever their order", () => {
    const base: Snapshot = {
      time: "2024-01-01T00:00:00Z",
      host: "h",
      paths: ["/a", "/b"],
      tags: [],
      tree: "t",
      program: "p",
      summary: { files: 0, dirs: 0, bytes: 0, addedBytes: 0, durationMs: 0 },
    };
    const groups = groupSnapshots(
      [
        base,
        { ...base, paths: ["/b", "/a"] },
        { ...base, paths: ["/a"] },
        { ...base, source: { kind: "postgres", name: "main" } },
        { ...base, host: "other" },
      ],
      "host-source-paths",
    );
    expect(groups.map((g) => [g.key, g.snapshots.length])).toEqual([
      [{ host: "h", paths: ["/a", "/b"] }, 2],
      [{ host: "h", paths: ["/a"] }, 1],
      [{ host: "h", paths: ["/a", "/b"], source: "main" }, 1],
      [{ host: "other", paths: ["/a", "/b"] }, 1],
    ]);
  });
});
