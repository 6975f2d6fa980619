// Child process of pg-bench.mjs, run under GNU time so its wall time and
// peak RSS are PWDR's alone. Drives the built libraries the way a caller
// does (libs/host's createRecoveryPoint): the source's latest snapshot as
// parent (delta coding, repository format §5.1), Backup.start →
// backupPostgres → counts into meta → finish, abort on error.
//
// usage:
//   node pg-bench-runner.mjs init    REPO [AVG_KIB]          (AVG_KIB omitted: PWDR defaults)
//   node pg-bench-runner.mjs backup  REPO HOST PORT BINDIR DB
//   node pg-bench-runner.mjs restore REPO HOST PORT BINDIR DB TARGET_DB
// The password comes from PWDR_PASSWORD. Prints one JSON line on stdout.
import { resolve } from "node:path";
import { Backup, LocalBackend, listSnapshots, Repository } from "../../libs/repo/dist/index.js";
// The PostgreSQL entry point only: the package index also loads the Redis
// and config sources (ioredis, the PKI library), ~0.2 s of start-up.
import { backupPostgres, restorePostgres } from "../../libs/sources/dist/postgres/index.js";

const password = process.env.PWDR_PASSWORD ?? "bench-password";
/** Cheap scrypt, as in the tests: the benchmark measures the source, not the key derivation. */
const FAST_KDF = { N: 1024, r: 8, p: 1 };
const [cmd, repoDir, ...rest] = process.argv.slice(2);
const backend = () => new LocalBackend(resolve(repoDir));
const connection = (host, port, binDir) => ({ host, port: Number(port), user: "postgres", binDir });

async function init(avgKiB) {
  const options = { kdf: FAST_KDF };
  if (avgKiB) {
    const avg = Number(avgKiB) * 1024;
    options.params = {
      chunker: { minSize: avg / 4, avgSize: avg, maxSize: avg * 4, gearSeed: "5a".repeat(32) },
    };
  }
  const repo = await Repository.init(backend(), password, options);
  const out = { chunker: repo.params.chunker.avgSize };
  await repo.close();
  return out;
}

async function backup(host, port, binDir, db) {
  const repo = await Repository.open(backend(), password);
  try {
    const meta = {};
    const source = { kind: "postgres", name: "postgres" };
    const parent = (await listSnapshots(repo, { host: "bench", source: source.name })).at(-1);
    const b = await Backup.start(repo, { source, meta, host: "bench", ...(parent ? { parent } : {}) });
    try {
      const source = await backupPostgres(
        { backup: b },
        { connection: connection(host, port, binDir), databases: [db] },
      );
      Object.assign(meta, { version: source.version, counts: source.counts });
      const done = await b.finish();
      return {
        id: done.id,
        addedBytes: done.snapshot.summary.addedBytes,
        bytes: done.snapshot.summary.bytes,
      };
    } catch (err) {
      await b.abort();
      throw err;
    }
  } finally {
    await repo.close();
  }
}

async function restore(host, port, binDir, db, target) {
  const repo = await Repository.open(backend(), password);
  try {
    await repo.loadIndex();
    const r = await restorePostgres(
      { repo, snapshotId: "latest" },
      { connection: connection(host, port, binDir), databases: [db], targetDatabase: () => target },
    );
    return r;
  } finally {
    await repo.close();
  }
}

const commands = { init, backup, restore };
if (!commands[cmd]) {
  console.error(`unknown command ${cmd}`);
  process.exit(2);
}
try {
  console.log(JSON.stringify(await commands[cmd](...rest)));
} catch (err) {
  console.error(err?.stack ?? err);
  process.exit(1);
}
