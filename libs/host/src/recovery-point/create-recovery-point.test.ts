import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkRepository, LocalBackend, listSnapshots, Repository } from "@pwdr/repo";
import { makeTempDir } from "@pwdr/test-harness";
import { describe, expect, it } from "vitest";
import { hostDefinitionSchema } from "../definition/host-definition.js";
import { createRecoveryPoint } from "./create-recovery-point.js";
import { listRecoveryPoints } from "./find-recovery-points.js";

async function fixture() {
  const root = makeTempDir("pwdr-create-rp-");
  mkdirSync(join(root, "etc"));
  mkdirSync(join(root, "data"));
  writeFileSync(join(root, "etc/app.conf"), "a=1\n");
  writeFileSync(join(root, "data/scan.json"), "{}");
  const repo = await Repository.init(new LocalBackend(join(root, "repo")), "pw", {
    kdf: { N: 1024, r: 8, p: 1 },
  });
  const def = hostDefinitionSchema.parse({
    host: "pi-t",
    sources: [
      { kind: "config", name: "config", paths: [join(root, "etc")] },
      { kind: "files", name: "data", paths: [join(root, "data")] },
    ],
  });
  return { repo, def };
}

describe("createRecoveryPoint options", () => {
  it("records the given tags on every snapshot of the run, the record included", async () => {
    const { repo, def } = await fixture();
    const point = await createRecoveryPoint(repo, def, { tags: ["job:42", "nightly"] });
    const snapshots = await listSnapshots(repo);
    expect(snapshots).toHaveLength(3);
    for (const s of snapshots) expect([...s.tags].sort()).toEqual(["job:42", "nightly", `rp:${point.id}`]);
  });

  it("stops before the next source once aborted, writes no record, and leaves a valid repository", async () => {
    const { repo, def } = await fixture();
    const controller = new AbortController();
    const run = createRecoveryPoint(repo, def, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.source === "config") controller.abort(new Error("cancelled by the operator"));
      },
    });
    await expect(run).rejects.toThrow("cancelled by the operator");
    const snapshots = await listSnapshots(repo);
    expect(snapshots.map((s) => s.source?.name)).toEqual(["config"]);
    expect(await listRecoveryPoints(repo)).toEqual([]);
    expect((await checkRepository(repo)).errors).toEqual([]);
  });
});
