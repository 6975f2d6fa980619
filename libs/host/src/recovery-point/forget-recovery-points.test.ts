import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Backup, LocalBackend, listSnapshots, Repository } from "@pwdr/repo";
import { makeTempDir, stopAll } from "@pwdr/test-harness";
import { afterAll, describe, expect, it } from "vitest";
import { hostDefinitionSchema } from "../definition/host-definition.js";
import { createRecoveryPoint } from "./create-recovery-point.js";
import { listRecoveryPoints } from "./find-recovery-points.js";
import { forgetRecoveryPoints } from "./forget-recovery-points.js";
import type { RecoveryPoint } from "./recovery-point.js";

afterAll(stopAll);

describe("forgetRecoveryPoints", () => {
  it("forgets whole points with all their snapshots, and leftovers of runs that never finished", async () => {
    const root = makeTempDir("pwdr-forget-rp-");
    mkdirSync(join(root, "etc"));
    mkdirSync(join(root, "data"));
    writeFileSync(join(root, "etc/app.conf"), "a=1\n");
    writeFileSync(join(root, "data/scan.json"), "{}");
    const repo = await Repository.init(new LocalBackend(join(root, "repo")), "pw", {
      kdf: { N: 1024, r: 8, p: 1 },
    });
    const def = hostDefinitionSchema.parse({
      host: "pi-f",
      sources: [
        { kind: "config", name: "config", paths: [join(root, "etc")] },
        { kind: "files", name: "data", paths: [join(root, "data")] },
      ],
    });
    const at = (day: number) => () => new Date(Date.UTC(2026, 10, day, 2, 0, 0));
    const points: RecoveryPoint[] = [];
    for (const day of [20, 21, 22]) points.push(await createRecoveryPoint(repo, def, { now: at(day) }));
    // A run that crashed after one source: its snapshot carries a point id without a record.
    const crashed = await Backup.start(repo, {
      host: "pi-f",
      tags: ["rp:20261121T030000Z-dead00"],
      now: at(21),
    });
    await crashed.addPath(join(root, "etc"));
    const orphan = await crashed.finish();
    const manual = await Backup.start(repo, { host: "pi-f", now: at(19) });
    await manual.addPath(join(root, "data"));
    const kept = await manual.finish();

    const dry = await forgetRecoveryPoints(repo, "pi-f", { keepLast: 2 }, { dryRun: true });
    expect(dry.decisions.map((d) => [d.id, d.keep])).toEqual(
      [...points].reverse().map((p, i) => [p.id, i < 2]),
    );
    expect(dry.removedSnapshots).toEqual([]);
    expect(await listSnapshots(repo)).toHaveLength(3 * 3 + 2);

    const result = await forgetRecoveryPoints(repo, "pi-f", { keepLast: 2 });
    expect(result.removedSnapshots).toHaveLength(3 + 1);
    expect(result.removedSnapshots).toContain(orphan.id);
    expect((await listRecoveryPoints(repo)).map((p) => p.id)).toEqual([points[1]?.id, points[2]?.id]);
    const left = await listSnapshots(repo);
    expect(left.map((s) => s.id)).toContain(kept.id);
    expect(left.filter((s) => s.tags.includes(`rp:${points[0]?.id}`))).toEqual([]);
  });
});
