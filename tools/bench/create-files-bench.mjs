// File creation right after a delete, from one thread or several: what a
// restore's workers pay on the benchmark machine's journal-less ext4, where
// allocating an inode steps over every inode freed in the last minute.
// Creates DIRS x PER files of 50 kB under --dir, deletes them, creates them
// again with N threads and prints wall, user and system time of that step.
//   node tools/bench/create-files-bench.mjs [threads] [--dir /var/tmp/pwdr-create-bench]
import { closeSync, constants, mkdirSync, openSync, rmSync, writeSync } from "node:fs";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

const DIRS = 600;
const PER = 8;
const DATA = Buffer.alloc(50_000, 7);
const FLAGS = constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW;

function create(base, dirs) {
  for (const d of dirs) {
    for (let f = 0; f < PER; f++) {
      const fd = openSync(`${base}/d${d}/f${f}`, FLAGS, 0o644);
      writeSync(fd, DATA);
      closeSync(fd);
    }
  }
}

function emptyTree(base) {
  rmSync(base, { recursive: true, force: true });
  mkdirSync(base, { recursive: true });
  for (let d = 0; d < DIRS; d++) mkdirSync(`${base}/d${d}`);
}

if (!isMainThread) {
  create(workerData.base, workerData.dirs);
  parentPort.postMessage("done");
} else {
  const { values, positionals } = parseArgs({
    options: { dir: { type: "string", default: "/var/tmp/pwdr-create-bench" } },
    allowPositionals: true,
  });
  const threads = Number(positionals[0] ?? 1);
  const base = values.dir;
  const all = [...Array(DIRS).keys()];
  emptyTree(base);
  create(base, all);
  emptyTree(base);
  const started = performance.now();
  const cpu = process.cpuUsage();
  const parts = Array.from({ length: threads }, (_, i) => all.filter((d) => d % threads === i));
  await Promise.all(
    parts.map(
      (dirs) =>
        new Promise((resolve) =>
          new Worker(new URL(import.meta.url), { workerData: { base, dirs } }).once("message", resolve),
        ),
    ),
  );
  const used = process.cpuUsage(cpu);
  console.log(
    `${threads} thread(s), ${DIRS * PER} files: ${(performance.now() - started).toFixed(0)} ms, ` +
      `user ${(used.user / 1000).toFixed(0)} ms, sys ${(used.system / 1000).toFixed(0)} ms`,
  );
  rmSync(base, { recursive: true, force: true });
}
