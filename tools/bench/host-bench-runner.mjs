// Child process of host-bench.mjs, run under GNU time so its wall time and
// peak RSS (Node start-up included) are PWDR's alone. Drives the built
// libraries the way the host tests do (libs/host/src/host-restore.test.ts):
// createRecoveryPoint once, restoreHost of "latest" onto the same definition.
//
// usage:
//   node host-bench-runner.mjs init    REPO
//   node host-bench-runner.mjs backup  REPO DEFINITION_JSON
//   node host-bench-runner.mjs restore REPO DEFINITION_JSON
// The password comes from PWDR_PASSWORD. Prints one JSON line on stdout.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { createRecoveryPoint, hostDefinitionSchema, restoreHost } from "../../libs/host/dist/index.js";
import { LocalBackend, Repository } from "../../libs/repo/dist/index.js";

const password = process.env.PWDR_PASSWORD ?? "bench-password";
/** Cheap scrypt, as in the tests: the benchmark measures the host restore, not the key derivation. */
const FAST_KDF = { N: 1024, r: 8, p: 1 };
const [cmd, repoDir, definitionFile] = process.argv.slice(2);
const backend = () => new LocalBackend(resolve(repoDir));
const definition = () => hostDefinitionSchema.parse(JSON.parse(readFileSync(definitionFile, "utf8")));

async function init() {
  const repo = await Repository.init(backend(), password, { kdf: FAST_KDF });
  await repo.close();
  return {};
}

async function withRepo(use) {
  const repo = await Repository.open(backend(), password);
  try {
    return await use(repo);
  } finally {
    await repo.close();
  }
}

const backup = () =>
  withRepo(async (repo) => {
    const point = await createRecoveryPoint(repo, definition());
    if (point.status !== "complete")
      throw new Error(`recovery point ${point.status}: ${JSON.stringify(point)}`);
    const sources = point.sources.map(({ name, bytes, addedBytes, durationMs }) => ({
      name,
      bytes,
      addedBytes,
      durationMs,
    }));
    return { id: point.id, sources };
  });

/** The pg_restore run a progress event belongs to: pre-data, table data (several in parallel) or post-data. */
function phaseOf(p) {
  if (p.phase !== "restore" || !p.item) return p.phase;
  if (p.item.endsWith("/pre-data.dump")) return "pre-data";
  if (p.item.endsWith("/post-data.dump")) return "post-data";
  return "data";
}

/**
 * Seconds per progress phase of each source ("db:post-data": 1.2): a phase
 * lasts from its first progress event to the next phase's, or to the end of
 * its step.
 */
function phaseClock() {
  const marks = [];
  const mark = (source, phase) => {
    const last = marks.findLast((m) => m.source === source);
    if (last?.phase !== phase) marks.push({ source, phase, t: performance.now() });
  };
  return {
    onProgress: (p) => mark(p.source, phaseOf(p)),
    onStep: (s) => s.source && mark(s.source, s.status === "running" ? "setup" : "end"),
    seconds: () => {
      const out = {};
      for (const [i, m] of marks.entries()) {
        const next = marks.slice(i + 1).find((n) => n.source === m.source);
        if (next)
          out[`${m.source}:${m.phase}`] = (out[`${m.source}:${m.phase}`] ?? 0) + (next.t - m.t) / 1000;
      }
      return out;
    },
  };
}

const restore = () =>
  withRepo(async (repo) => {
    // Repository.open does not read the indexes and restorePostgres reads blobs directly (as pg-bench-runner).
    await repo.loadIndex();
    const clock = phaseClock();
    const report = await restoreHost(repo, {
      recoveryPoint: "latest",
      target: definition(),
      onProgress: clock.onProgress,
      onStep: clock.onStep,
    });
    if (report.status !== "done") throw new Error(report.failure ?? `host restore ${report.status}`);
    const steps = report.steps.map(({ kind, source, durationMs }) => ({ kind, source, durationMs }));
    return { durationMs: report.durationMs, steps, phases: clock.seconds() };
  });

const commands = { init, backup, restore };
if (!commands[cmd]) {
  console.error(`unknown command ${cmd}`);
  process.exit(2);
}
try {
  console.log(JSON.stringify(await commands[cmd]()));
} catch (err) {
  console.error(err?.stack ?? err);
  process.exit(1);
}
