// The memory floor of a Node process with N idle worker threads: no
// application code, no data. Run under GNU time to read its peak RSS:
//   for n in 0 1 2; do /usr/bin/time -f "$n workers: %M KiB" node tools/bench/node-floor.mjs $n; done
// BENCHMARKS.md compares it with restic's peak RSS (issue 3's RSS target).
import { Worker } from "node:worker_threads";

const count = Number(process.argv[2] ?? 2);
const workers = Array.from(
  { length: count },
  () => new Worker("require('node:worker_threads').parentPort.postMessage('up')", { eval: true }),
);
await Promise.all(workers.map((w) => new Promise((resolve) => w.once("message", resolve))));
await Promise.all(workers.map((w) => w.terminate()));
