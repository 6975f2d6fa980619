// Chunk sizes: for each average size, back up the dataset, change 1 % of
// its files (shared/bench/mutate.mjs) and back up again; report the second
// backup's added bytes (dedup quality), the repository size and the blob
// count (index memory). Uses the built library (npx nx run @pwdr/repo:build).
// usage: node tools/bench/chunk-size-bench.mjs DATASET_DIR WORK_DIR
import { execFileSync } from "node:child_process";
import { cpSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { Backup, LocalBackend, Repository } from "../../libs/repo/dist/index.js";

const [dataset, workArg] = process.argv.slice(2);
const work = resolve(workArg ?? "/var/tmp/pwdr-chunk-bench");
const mutate = resolve(import.meta.dirname, "../../../shared/bench/mutate.mjs");
const MiB = 1024 * 1024;

async function backup(repo, src) {
  const b = await Backup.start(repo, {});
  await b.addPath(src);
  const t = performance.now();
  const r = await b.finish();
  return { added: r.snapshot.summary.addedBytes, secs: (performance.now() - t) / 1000 };
}

console.log(
  "| avg chunk | min / max | first backup MiB | day-2 added MiB | repo MiB | blobs |\n|---|---|---|---|---|---|",
);
for (const avg of [256 * 1024, 512 * 1024, MiB, 2 * MiB]) {
  rmSync(work, { recursive: true, force: true });
  cpSync(dataset, join(work, "src"), { recursive: true });
  const repo = await Repository.init(new LocalBackend(join(work, "repo")), "bench", {
    params: { chunker: { minSize: avg / 4, avgSize: avg, maxSize: avg * 4, gearSeed: "5a".repeat(32) } },
  });
  const first = await backup(repo, join(work, "src"));
  execFileSync("node", [mutate, "1", join(work, "src")]);
  const second = await backup(repo, join(work, "src"));
  await repo.loadIndex();
  const size = Number(
    execFileSync("du", ["-sb", join(work, "repo")])
      .toString()
      .split("\t")[0],
  );
  console.log(
    `| ${avg / 1024} KiB | ${avg / 4096}/${avg / 256} KiB | ${(first.added / MiB).toFixed(1)} | ${(second.added / MiB).toFixed(2)} | ${(size / MiB).toFixed(1)} | ${repo.index.blobCount} |`,
  );
  await repo.close();
}
rmSync(work, { recursive: true, force: true });
