// Random actions against an oracle. A seeded PRNG drives a long sequence of
// file-system changes to a small source tree (files created, rewritten,
// appended, truncated, deleted, renamed; odd byte names, symlinks, empty
// directories, a few 1–3 MiB files built from shared segments so dedup
// matters) interleaved with repository operations: backup (sometimes with a
// parent, even a forgotten one, two hosts, tags, a virtual clock), restore of a random earlier
// snapshot (whole, a sub-path, with and without stripPrefix, or over an
// earlier restore of another snapshot, with overwrite always/if-changed), forget with a random policy, prune with a random
// max-unused, and check (every READ_DATA_EVERY actions with read-data).
//
// The oracle is an in-memory model of the tree: at each backup the model is
// compared with the disk (a test bug otherwise) and the full listing is
// recorded under the snapshot id (path → type, mode, size, sha256, symlink
// target, mtime). Every restore and listing must match it exactly (mtimes to
// 2 µs, see restore-mtime-precision.test.ts); forget must remove exactly the
// snapshots an independent implementation of the policy picks.
//
// PWDR_RANDOM_ACTIONS=<n> (default 300), PWDR_RANDOM_SEED=<n> to replay (a
// failure names the seed and action index), PWDR_RANDOM_VERBOSE=1 prints
// every action.
import { createHash } from "node:crypto";
import {
  chmod,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  symlink,
  truncate,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { describe, expect, it } from "vitest";
import { Backup } from "../archiver/archiver.js";
import { LocalBackend } from "../backend/local-backend.js";
import { listFiles } from "../browse/list-files.js";
import { checkRepository } from "../checker/check-repository.js";
import type { CodecName } from "../compression/codec.js";
import { forget } from "../forget/forget.js";
import type { RetentionPolicy } from "../forget/retention-policy.js";
import { prune } from "../pruner/prune.js";
import type { MaxUnused } from "../pruner/prune-plan.js";
import { Repository } from "../repository.js";
import { type RestoreOptions, restoreSnapshot } from "../restorer/restorer.js";
import { listSnapshots, loadSnapshot, type SnapshotEntry } from "../snapshot/snapshot.js";
import { PASSWORD, seededBytes, tempRepository } from "../test-support/fixtures.js";
import { Prng, seedFromEnv } from "../test-support/prng.js";
import { packBytes, smallParams } from "../test-support/robustness-helpers.js";
import { nodeTargetBytes } from "../tree/tree-node.js";

const ACTIONS = Number(process.env.PWDR_RANDOM_ACTIONS ?? 300);
const SEED = seedFromEnv("PWDR_RANDOM_SEED", 0x5eed0300);
const VERBOSE = process.env.PWDR_RANDOM_VERBOSE === "1";
const READ_DATA_EVERY = 50;
const KiB = 1024;
const MiB = 1024 * KiB;
/** Content of the model stays below this, so 300 actions run well under a minute. */
const BYTES_BUDGET = 12 * MiB;
const MAX_LARGE = 3;
const MAX_DEPTH = 4;

// ---- the model ----

type ModelNode =
  | { type: "file"; mode: number; data: Buffer }
  | { type: "dir"; mode: number }
  | { type: "symlink"; target: Buffer };

/** What a snapshot must give back for one path ("" is the backed-up directory itself). */
interface Entry {
  type: "file" | "dir" | "symlink";
  mode: number;
  size?: number;
  sha256?: string;
  /** Symlink target bytes, hex. */
  target?: string;
  mtimeNs?: bigint;
}

type Listing = Map<string, Entry>;

/** Paths are raw bytes kept as latin1 strings ("a/b"), so every byte survives. */
const bytesOf = (key: string) => Buffer.from(key, "latin1");
const show = (key: string) => `"${bytesOf(key).toString("utf8")}" [${bytesOf(key).toString("hex")}]`;
const parentOf = (key: string) => (key.includes("/") ? key.slice(0, key.lastIndexOf("/")) : "");
const depthOf = (key: string) => (key === "" ? 0 : key.split("/").length);
const joinKey = (dir: string, name: string) => (dir === "" ? name : `${dir}/${name}`);
const inside = (key: string, dir: string) => dir === "" || key === dir || key.startsWith(`${dir}/`);
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

const NAMES: Buffer[] = [
  ..."a b c.txt data.bin notes.md d\u00a0e ü 日本語 -dash ... .hidden x\ny %s a*b [x] q?"
    .split(" ")
    .map((s) => Buffer.from(s)),
  Buffer.from("with space"),
  Buffer.from([0x66, 0xff]),
  Buffer.from([0xfe]),
  Buffer.from([0x80, 0x61, 0x62]),
  Buffer.from([0x66, 0xff, 0xfe]),
  Buffer.from([0xc3, 0x28]),
];
const FILE_MODES = [0o644, 0o600, 0o755, 0o640, 0o444, 0o700];
const DIR_MODES = [0o755, 0o700, 0o750, 0o555, 0o775];

class Model {
  readonly nodes = new Map<string, ModelNode>();

  keys(filter: (n: ModelNode, key: string) => boolean = () => true): string[] {
    return [...this.nodes].filter(([k, n]) => filter(n, k)).map(([k]) => k);
  }

  dirs(): string[] {
    return ["", ...this.keys((n) => n.type === "dir")];
  }

  files(): string[] {
    return this.keys((n) => n.type === "file");
  }

  bytes(): number {
    let total = 0;
    for (const n of this.nodes.values()) if (n.type === "file") total += n.data.length;
    return total;
  }

  large(): string[] {
    return this.keys((n) => n.type === "file" && n.data.length >= MiB);
  }

  removeTree(key: string): void {
    for (const k of [...this.nodes.keys()]) if (inside(k, key)) this.nodes.delete(k);
  }

  moveTree(from: string, to: string): void {
    const moved = [...this.nodes].filter(([k]) => inside(k, from));
    for (const [k] of moved) this.nodes.delete(k);
    for (const [k, n] of moved) this.nodes.set(to + k.slice(from.length), n);
  }

  /** The listing without mtimes (the model does not know them). */
  listing(rootMode: number): Listing {
    const out: Listing = new Map([["", { type: "dir", mode: rootMode }]]);
    for (const [k, n] of this.nodes) {
      if (n.type === "file")
        out.set(k, { type: "file", mode: n.mode, size: n.data.length, sha256: sha256(n.data) });
      else if (n.type === "dir") out.set(k, { type: "dir", mode: n.mode });
      else out.set(k, { type: "symlink", mode: 0o777, target: n.target.toString("hex") });
    }
    return out;
  }
}

// ---- reading trees from disk ----

async function describeEntry(path: Buffer): Promise<Entry> {
  const s = await lstat(path, { bigint: true });
  const mode = Number(s.mode & 0o7777n);
  if (s.isFile()) {
    const data = await readFile(path);
    return { type: "file", mode, size: data.length, sha256: sha256(data), mtimeNs: s.mtimeNs };
  }
  if (s.isDirectory()) return { type: "dir", mode, mtimeNs: s.mtimeNs };
  if (s.isSymbolicLink()) {
    const target = (await readlink(path, { encoding: "buffer" })).toString("hex");
    return { type: "symlink", mode, target, mtimeNs: s.mtimeNs };
  }
  throw new Error(`unexpected file type at ${path.toString()}`);
}

/** Every entry below `root` (and "" for `root` itself), keyed by its raw relative path. */
async function describeDisk(root: Buffer, withRoot = true): Promise<Listing> {
  const out: Listing = new Map();
  if (withRoot) out.set("", await describeEntry(root));
  const walk = async (dir: Buffer, rel: string) => {
    for (const name of await readdir(dir, { encoding: "buffer" })) {
      const key = joinKey(rel, name.toString("latin1"));
      const path = Buffer.concat([dir, Buffer.from("/"), name]);
      const e = await describeEntry(path);
      out.set(key, e);
      if (e.type === "dir") await walk(path, key);
    }
  };
  await walk(root, "");
  return out;
}

/**
 * Differences between two listings. mtimes are compared when both sides
 * have one, to 2 µs (the restorer can be 1.2 µs off; see
 * restore-mtime-precision.test.ts), or exactly with `exactMtime`.
 */
function compare(expected: Listing, actual: Listing, options: { exactMtime?: boolean } = {}): string[] {
  const problems: string[] = [];
  for (const [k, e] of expected) {
    const a = actual.get(k);
    if (!a) {
      problems.push(`missing ${show(k)}`);
      continue;
    }
    const { mtimeNs: em, ...eRest } = e;
    const { mtimeNs: am, ...aRest } = a;
    if (JSON.stringify(eRest) !== JSON.stringify(aRest)) {
      problems.push(`${show(k)}: got ${JSON.stringify(aRest)}, want ${JSON.stringify(eRest)}`);
    }
    if (em !== undefined && am !== undefined) {
      const d = am - em;
      const ok = options.exactMtime ? d === 0n : d > -2000n && d < 2000n;
      if (!ok) problems.push(`${show(k)}: mtime ${am} != ${em}`);
    }
  }
  for (const k of actual.keys()) if (!expected.has(k)) problems.push(`unexpected ${show(k)}`);
  return problems.sort();
}

function withoutMtimes(l: Listing): Listing {
  return new Map([...l].map(([k, { mtimeNs: _m, ...rest }]) => [k, rest]));
}

// ---- the retention oracle (independent of forget's implementation) ----

interface Recorded {
  id: string;
  host: string;
  tags: string[];
  time: number;
  listing: Listing;
}

function expectedForgotten(snaps: readonly Recorded[], policy: RetentionPolicy): Set<string> {
  const forgotten = new Set<string>();
  for (const host of new Set(snaps.map((s) => s.host))) {
    const group = snaps.filter((s) => s.host === host).sort((a, b) => b.time - a.time);
    const newest = group[0]?.time ?? 0;
    const kept = new Set<string>();
    for (const s of group.slice(0, policy.keepLast ?? 0)) kept.add(s.id);
    const bucketRule = (n: number | undefined, bucket: (t: Date) => string) => {
      let left = n ?? 0;
      let last: string | undefined;
      for (const s of group) {
        const b = bucket(new Date(s.time));
        if (left === 0 || b === last) continue;
        left--;
        last = b;
        kept.add(s.id);
      }
    };
    bucketRule(policy.keepDaily, (t) => t.toISOString().slice(0, 10));
    bucketRule(policy.keepHourly, (t) => t.toISOString().slice(0, 13));
    for (const s of group) {
      if (policy.keepWithin && s.time > newest - policy.keepWithin) kept.add(s.id);
      if (policy.keepTags?.some((t) => s.tags.includes(t))) kept.add(s.id);
      if (!kept.has(s.id)) forgotten.add(s.id);
    }
  }
  return forgotten;
}

// ---- the test ----

describe("random actions against an oracle", () => {
  it(
    `${ACTIONS} random actions (seed ${SEED}) keep every snapshot restorable exactly as it was`,
    async () => {
      const rng = new Prng(SEED);
      const codec = rng.pick<CodecName>(["zstd", "zstd", "deflate", "none"]);
      const gearByte = rng.next().toString(16).padStart(8, "0").slice(0, 2);
      const { root } = await tempRepository({ ...smallParams(gearByte), compression: codec });
      let repo = await Repository.open(new LocalBackend(root), PASSWORD);
      const work = makeTempDir("robust-actions");
      const src = join(work, "src");
      const srcBytes = Buffer.from(src);
      await mkdir(src);
      await chmod(src, 0o755);
      const diskPath = (key: string) =>
        key === "" ? srcBytes : Buffer.concat([srcBytes, Buffer.from("/"), bytesOf(key)]);

      const model = new Model();
      const snapshots: Recorded[] = [];
      /** Forgotten snapshots, usable as a stale parent. */
      const gone: SnapshotEntry[] = [];
      let clock = Date.parse("2024-01-01T00:00:00Z");
      const segments = Array.from({ length: 8 }, (_, i) => seededBytes(`segment-${SEED}-${i}`, 256 * KiB));
      const log: string[] = [];
      const stats = new Map<string, number>();
      let restoreCount = 0;
      let restoreTmp = 0;

      const freshName = (dir: string): string | undefined => {
        for (let tries = 0; tries < 20; tries++) {
          let name = rng.pick(NAMES);
          if (rng.chance(0.6)) name = Buffer.concat([name, Buffer.from(String(rng.int(0, 99)))]);
          const key = joinKey(dir, name.toString("latin1"));
          if (!model.nodes.has(key)) return key;
        }
        return undefined;
      };
      const content = (size: number): Buffer => {
        switch (rng.weighted({ random: 5, text: 3, zeros: 1, segments: 1 })) {
          case "random":
            return rng.bytes(size);
          case "text": {
            const line = `line of ${rng.next()} with some words repeated\n`;
            return Buffer.from(line.repeat(Math.ceil(size / line.length) || 1)).subarray(0, size);
          }
          case "zeros":
            return Buffer.alloc(size);
          default:
            return Buffer.concat([rng.pick(segments), rng.pick(segments)]).subarray(0, size);
        }
      };
      const smallSize = () =>
        rng.weighted({ empty: 1, tiny: 6, small: 6, medium: 2 }) === "empty"
          ? 0
          : rng.pick([
              rng.int(1, 100),
              rng.int(100, 8 * KiB),
              rng.int(8 * KiB, 48 * KiB),
              rng.int(48 * KiB, 300 * KiB),
            ]);
      /** 1–3 MiB made of shared 256 KiB segments with random bytes between: dedup within and across files. */
      const largeContent = (): Buffer => {
        const size = rng.int(MiB, 3 * MiB);
        const parts: Buffer[] = [];
        let n = 0;
        while (n < size) {
          const part = rng.chance(0.75) ? rng.pick(segments) : rng.bytes(rng.int(1, 64 * KiB));
          parts.push(part);
          n += part.length;
        }
        return Buffer.concat(parts).subarray(0, size);
      };
      const writeModelFile = async (key: string, data: Buffer, mode: number) => {
        await writeFile(diskPath(key), data);
        await chmod(diskPath(key), mode);
        model.nodes.set(key, { type: "file", mode, data });
      };
      const pickFile = () => {
        const files = model.files();
        return files.length ? rng.pick(files) : undefined;
      };

      const actions = {
        async create(): Promise<string> {
          const dir = rng.pick(model.dirs().filter((d) => depthOf(d) < MAX_DEPTH));
          const key = freshName(dir);
          if (!key) return "no free name";
          const size = model.bytes() > BYTES_BUDGET ? rng.int(0, 100) : smallSize();
          await writeModelFile(key, content(size), rng.pick(FILE_MODES));
          return `${show(key)} ${size} B`;
        },
        async large(): Promise<string> {
          const large = model.large();
          if (large.length >= MAX_LARGE || model.bytes() > BYTES_BUDGET - 3 * MiB) {
            if (!large.length) return "over budget";
            const victim = rng.pick(large);
            await rm(diskPath(victim));
            model.nodes.delete(victim);
            return `deleted large ${show(victim)}`;
          }
          const key = freshName(rng.pick(model.dirs().filter((d) => depthOf(d) < MAX_DEPTH)));
          if (!key) return "no free name";
          const data = largeContent();
          await writeModelFile(key, data, 0o644);
          return `${show(key)} ${data.length} B`;
        },
        async modify(): Promise<string> {
          const key = pickFile();
          const node = key ? model.nodes.get(key) : undefined;
          if (!key || node?.type !== "file" || node.data.length === 0) return "nothing to modify";
          const offset = rng.int(0, node.data.length - 1);
          const patch = rng.bytes(rng.int(1, Math.min(node.data.length - offset, 64 * KiB)));
          const fh = await open(diskPath(key), "r+");
          await fh.write(patch, 0, patch.length, offset);
          await fh.close();
          const data = Buffer.from(node.data);
          patch.copy(data, offset);
          node.data = data;
          return `${show(key)} ${patch.length} B at ${offset}`;
        },
        async append(): Promise<string> {
          const key = pickFile();
          const node = key ? model.nodes.get(key) : undefined;
          if (!key || node?.type !== "file") return "nothing to append to";
          const more = rng.chance(0.2) ? rng.pick(segments) : content(rng.int(1, 32 * KiB));
          if (model.bytes() + more.length > BYTES_BUDGET) return "over budget";
          await writeFile(diskPath(key), more, { flag: "a" });
          node.data = Buffer.concat([node.data, more]);
          return `${show(key)} +${more.length} B`;
        },
        async truncate(): Promise<string> {
          const key = pickFile();
          const node = key ? model.nodes.get(key) : undefined;
          if (!key || node?.type !== "file") return "nothing to truncate";
          // Mostly shorter; sometimes longer (a hole of zeros).
          const size = rng.chance(0.8)
            ? rng.int(0, node.data.length)
            : node.data.length + rng.int(1, 200 * KiB);
          await truncate(diskPath(key), size);
          const data = Buffer.alloc(size);
          node.data.copy(data, 0, 0, Math.min(size, node.data.length));
          node.data = data;
          return `${show(key)} to ${size} B`;
        },
        async rewriteSame(): Promise<string> {
          // Same content, new mtime: a parent-based backup must still be right.
          const key = pickFile();
          const node = key ? model.nodes.get(key) : undefined;
          if (!key || node?.type !== "file") return "nothing to rewrite";
          await writeFile(diskPath(key), node.data);
          return show(key);
        },
        async remove(): Promise<string> {
          const keys = model.keys();
          if (!keys.length) return "nothing to delete";
          const key = rng.pick(keys);
          await rm(diskPath(key), { recursive: true });
          model.removeTree(key);
          return show(key);
        },
        async rename(): Promise<string> {
          const keys = model.keys();
          if (!keys.length) return "nothing to rename";
          const from = rng.pick(keys);
          const node = model.nodes.get(from) as ModelNode;
          const subtreeDepth =
            Math.max(
              ...model
                .keys()
                .filter((k) => inside(k, from))
                .map(depthOf),
            ) - depthOf(from);
          const dirs = model
            .dirs()
            .filter((d) => !inside(d, from) && depthOf(d) + 1 + subtreeDepth <= MAX_DEPTH);
          if (!dirs.length) return "nowhere to go";
          const dir = rng.pick(dirs);
          // A file sometimes replaces an existing file (rename's atomic overwrite).
          const victims = model.keys((n, k) => n.type === "file" && parentOf(k) === dir && k !== from);
          const to =
            node.type === "file" && victims.length && rng.chance(0.3) ? rng.pick(victims) : freshName(dir);
          if (!to) return "no free name";
          await rename(diskPath(from), diskPath(to));
          model.removeTree(to);
          model.moveTree(from, to);
          return `${show(from)} -> ${show(to)}`;
        },
        async mkdir(): Promise<string> {
          const dir = rng.pick(model.dirs().filter((d) => depthOf(d) < MAX_DEPTH));
          const key = freshName(dir);
          if (!key) return "no free name";
          const mode = rng.pick(DIR_MODES);
          await mkdir(diskPath(key));
          await chmod(diskPath(key), mode);
          model.nodes.set(key, { type: "dir", mode });
          return show(key);
        },
        async symlink(): Promise<string> {
          const dir = rng.pick(model.dirs());
          const key = freshName(dir);
          if (!key) return "no free name";
          const siblings = model.keys((_, k) => parentOf(k) === dir);
          const target = rng.pick([
            siblings.length
              ? bytesOf(rng.pick(siblings)).subarray(dir === "" ? 0 : dir.length + 1)
              : Buffer.from("x"),
            Buffer.from("/etc/hostname"),
            Buffer.from("does/not/exist"),
            Buffer.from("../../outside"),
            Buffer.from([0x74, 0xff, 0x2f, 0x61]),
            Buffer.from("long/".repeat(40)),
          ]);
          await symlink(target, diskPath(key));
          model.nodes.set(key, { type: "symlink", target });
          return `${show(key)} -> ${target.toString("hex")}`;
        },
        async chmod(): Promise<string> {
          const keys = model.keys((n) => n.type !== "symlink");
          if (!keys.length) return "nothing to chmod";
          const key = rng.pick(keys);
          const node = model.nodes.get(key) as ModelNode & { mode: number };
          node.mode = rng.pick(node.type === "dir" ? DIR_MODES : FILE_MODES);
          await chmod(diskPath(key), node.mode);
          return `${show(key)} ${node.mode.toString(8)}`;
        },
        async backup(): Promise<string> {
          const disk = await describeDisk(srcBytes);
          const diff = compare(model.listing(disk.get("")?.mode ?? 0), withoutMtimes(disk));
          if (diff.length) throw new Error(`test bug: model and disk disagree:\n${diff.join("\n")}`);
          const host = rng.pick(["h1", "h2"]);
          const tags = ["daily", "manual"].filter(() => rng.chance(0.3));
          const latest = snapshots.filter((s) => s.host === host).at(-1);
          // Mostly the host's latest snapshot; sometimes one forgotten (and maybe pruned) since.
          const parentKind = rng.weighted({ latest: 6, forgotten: 1, none: 3 });
          const parent =
            parentKind === "latest" && latest
              ? await loadSnapshot(repo, latest.id)
              : parentKind === "forgotten" && gone.length
                ? rng.pick(gone)
                : undefined;
          clock += rng.int(5 * 60_000, 36 * 3600_000);
          const time = clock;
          const backup = await Backup.start(repo, {
            host,
            tags,
            now: () => new Date(time),
            ...(parent ? { parent } : {}),
          });
          await backup.addPath(src);
          const result = await backup.finish();
          expect(result.warnings).toEqual([]);
          expect(result.snapshot.summary.files).toBe(model.files().length);
          snapshots.push({ id: result.id, host, tags, time, listing: disk });
          return `${result.id.slice(0, 12)} host ${host}${parent ? ` parent ${parent.id.slice(0, 12)}` : ""}${tags.length ? ` tags ${tags}` : ""}: ${model.nodes.size} entries, added ${result.snapshot.summary.addedBytes} B`;
        },
        async restore(): Promise<string> {
          if (!snapshots.length) return actions.backup();
          const rec = rng.pick(snapshots);
          const snap = await loadSnapshot(repo, rec.id);
          const target = join(work, `restore-${restoreTmp++}`);
          restoreCount++;
          try {
            // include takes text: only paths whose bytes are valid UTF-8 can be named.
            const keys = [...rec.listing.keys()].filter(
              (k) => k !== "" && Buffer.from(bytesOf(k).toString("utf8")).equals(bytesOf(k)),
            );
            const sub = keys.length && rng.chance(0.5) ? rng.pick(keys) : undefined;
            const options: RestoreOptions = { target };
            if (sub !== undefined) options.include = [`${src}/${bytesOf(sub).toString("utf8")}`];
            const strip = sub !== undefined && rec.listing.get(sub)?.type === "dir" && rng.chance(0.3);
            if (strip) options.stripPrefix = true;
            await restoreSnapshot(repo, snap, options);
            let expected: Listing;
            let actual: Listing;
            if (strip) {
              const prefix = `${sub}/`;
              expected = new Map(
                [...rec.listing]
                  .filter(([k]) => k.startsWith(prefix))
                  .map(([k, e]) => [k.slice(prefix.length), e]),
              );
              actual = await describeDisk(Buffer.from(target), false);
            } else {
              expected = new Map(
                [...rec.listing].filter(([k]) => sub === undefined || inside(k, sub) || inside(sub, k)),
              );
              actual = await describeDisk(Buffer.concat([Buffer.from(target), srcBytes]));
            }
            const diff = compare(expected, actual);
            if (diff.length)
              throw new Error(`restore of ${rec.id.slice(0, 12)} differs:\n${diff.slice(0, 30).join("\n")}`);
            if (rng.chance(0.3)) {
              // The listing shows exactly what was backed up (mtimes exact: no utimes involved).
              const listed: Listing = new Map();
              for await (const e of listFiles(repo, snap, { path: src, recursive: true })) {
                const key = e.pathBytes.subarray(srcBytes.length + 1).toString("latin1");
                const entry: Entry = {
                  type: e.type as Entry["type"],
                  mode: e.mode,
                  mtimeNs: BigInt(e.mtimeNs),
                };
                if (e.type === "file") entry.size = e.size;
                if (e.type === "symlink") entry.target = nodeTargetBytes(e.node).toString("hex");
                listed.set(key, entry);
              }
              const want: Listing = new Map(
                [...rec.listing].filter(([k]) => k !== "").map(([k, { sha256: _s, ...rest }]) => [k, rest]),
              );
              const listDiff = compare(want, listed, { exactMtime: true });
              if (listDiff.length)
                throw new Error(
                  `listing of ${rec.id.slice(0, 12)} differs:\n${listDiff.slice(0, 30).join("\n")}`,
                );
            }
            return `${rec.id.slice(0, 12)}${sub !== undefined ? ` path ${show(sub)}${strip ? " stripped" : ""}` : " whole"}`;
          } finally {
            await rm(target, { recursive: true, force: true });
          }
        },
        async restoreOver(): Promise<string> {
          if (snapshots.length < 2) return actions.backup();
          const [a, b] = [rng.pick(snapshots), rng.pick(snapshots)];
          const target = join(work, `restore-${restoreTmp++}`);
          const overwrite = rng.pick(["always", "if-changed"] as const);
          restoreCount++;
          try {
            await restoreSnapshot(repo, await loadSnapshot(repo, a.id), { target });
            // By design (path-safety.test.ts) a restore never enters a symlink already in the
            // target, whatever the overwrite mode: where B has a directory and A a symlink, it stops.
            const blocked = [...b.listing].find(
              ([k, e]) => e.type === "dir" && a.listing.get(k)?.type === "symlink",
            );
            if (blocked) {
              await expect(
                restoreSnapshot(repo, await loadSnapshot(repo, b.id), { target, overwrite }),
              ).rejects.toMatchObject({ code: "unsafe_path" });
              return `${b.id.slice(0, 12)} over ${a.id.slice(0, 12)} (${overwrite}): refused, symlink ${show(blocked[0])} where a directory goes`;
            }
            await restoreSnapshot(repo, await loadSnapshot(repo, b.id), { target, overwrite });
            const actual = await describeDisk(Buffer.concat([Buffer.from(target), srcBytes]));
            const problems: string[] = [];
            for (const p of compare(b.listing, new Map([...actual].filter(([k]) => b.listing.has(k))))) {
              // if-changed takes a file with the snapshot's size and mtime as unchanged without reading it.
              const key = [...b.listing.keys()].find((k) => p.startsWith(`${show(k)}:`));
              const was = key !== undefined ? a.listing.get(key) : undefined;
              const now = key !== undefined ? b.listing.get(key) : undefined;
              const sameLooking =
                overwrite === "if-changed" &&
                was?.type === "file" &&
                now?.type === "file" &&
                was.size === now.size &&
                was.mtimeNs === now.mtimeNs &&
                actual.get(key as string)?.sha256 === was.sha256;
              if (!sameLooking) problems.push(p);
            }
            // Whatever else is there must be a leftover of the first restore.
            for (const k of actual.keys())
              if (!b.listing.has(k) && !a.listing.has(k)) problems.push(`invented ${show(k)}`);
            if (problems.length) {
              throw new Error(
                `restore of ${b.id.slice(0, 12)} over ${a.id.slice(0, 12)} (${overwrite}) differs:\n${problems.slice(0, 30).join("\n")}`,
              );
            }
            return `${b.id.slice(0, 12)} over ${a.id.slice(0, 12)} (${overwrite})`;
          } finally {
            await rm(target, { recursive: true, force: true });
          }
        },
        async forget(): Promise<string> {
          if (!snapshots.length) return "no snapshots";
          const policy: RetentionPolicy = {};
          const rules = rng.int(1, 2);
          for (let i = 0; i < rules; i++) {
            switch (rng.pick(["last", "daily", "hourly", "within", "tags"])) {
              case "last":
                policy.keepLast = rng.int(1, 4);
                break;
              case "daily":
                policy.keepDaily = rng.int(1, 4);
                break;
              case "hourly":
                policy.keepHourly = rng.int(1, 6);
                break;
              case "within":
                policy.keepWithin = rng.int(3600_000, 4 * 86_400_000);
                break;
              default:
                policy.keepTags = ["manual"];
            }
          }
          const want = expectedForgotten(snapshots, policy);
          for (const id of want) gone.push(await loadSnapshot(repo, id));
          gone.splice(0, Math.max(0, gone.length - 10));
          const result = await forget(repo, policy, {
            groupBy: rng.pick(["host", "host-source-paths"] as const),
          });
          expect(new Set(result.removed)).toEqual(want);
          for (let i = snapshots.length - 1; i >= 0; i--)
            if (want.has((snapshots[i] as Recorded).id)) snapshots.splice(i, 1);
          expect(new Set((await listSnapshots(repo)).map((s) => s.id))).toEqual(
            new Set(snapshots.map((s) => s.id)),
          );
          return `${JSON.stringify(policy)}: removed ${result.removed.length}, ${snapshots.length} left`;
        },
        async prune(): Promise<string> {
          const maxUnused = rng.pick<MaxUnused>([
            { percent: 0 },
            { percent: 5 },
            { percent: 20 },
            { percent: 50 },
            { bytes: rng.int(0, 512 * KiB) },
            "unlimited",
          ]);
          const before = await packBytes(root);
          const result = await prune(repo, { maxUnused });
          if (rng.chance(0.5)) {
            await repo.reloadIndex();
          } else {
            await repo.close();
            repo = await Repository.open(new LocalBackend(root), PASSWORD);
          }
          expect(await packBytes(root)).toBeLessThanOrEqual(before);
          const again = (await prune(repo, { maxUnused, dryRun: true })).plan;
          expect({
            delete: again.deletePacks,
            unindexed: again.unindexedPacks,
            missing: again.missingPacks,
          }).toEqual({
            delete: [],
            unindexed: [],
            missing: [],
          });
          await actions.check();
          return `${JSON.stringify(maxUnused)}: deleted ${result.packsDeleted} packs, repacked ${result.plan.repackPacks.length} into ${result.packsWritten}; ${before} -> ${await packBytes(root)} B`;
        },
        async check(readData = false): Promise<string> {
          const report = await checkRepository(repo, readData ? { readData: "all" } : {});
          expect(report.errors).toEqual([]);
          expect(report.warnings).toEqual([]);
          expect(report.snapshotsChecked).toBe(snapshots.length);
          return `${report.packsChecked} packs${readData ? `, ${report.packsRead} read` : ""}`;
        },
      } satisfies Record<string, (...args: never[]) => Promise<string>>;

      const weights: Record<keyof typeof actions, number> = {
        create: 18,
        large: 2,
        modify: 8,
        append: 5,
        truncate: 4,
        rewriteSame: 1,
        remove: 4,
        rename: 5,
        mkdir: 6,
        symlink: 4,
        chmod: 3,
        backup: 12,
        restore: 7,
        restoreOver: 2,
        forget: 3,
        prune: 3,
        check: 3,
      };

      const run = async (index: number, kind: string, step: () => Promise<string>) => {
        try {
          const what = await step();
          log.push(`#${index} ${kind}: ${what}`);
          if (VERBOSE) console.log(log.at(-1));
          stats.set(kind, (stats.get(kind) ?? 0) + 1);
        } catch (err) {
          const tail = log.slice(-15).join("\n  ");
          throw new Error(
            `random actions: action #${index} (${kind}) failed, seed ${SEED}; reproduce with PWDR_RANDOM_SEED=${SEED} PWDR_RANDOM_ACTIONS=${index + 1}\n` +
              `last actions:\n  ${tail}\n${(err as Error).message}`,
            { cause: err },
          );
        }
      };

      const started = performance.now();
      try {
        for (let i = 0; i < ACTIONS; i++) {
          const kind = rng.weighted(weights);
          await run(i, kind, () => actions[kind]());
          if ((i + 1) % READ_DATA_EVERY === 0) await run(i, "check --read-data", () => actions.check(true));
        }
        // At the end, every snapshot still present restores exactly.
        await run(ACTIONS, "final backup", () => actions.backup());
        await run(ACTIONS, "final check --read-data", () => actions.check(true));
        for (const rec of [...snapshots]) {
          await run(ACTIONS, `final restore ${rec.id.slice(0, 12)}`, async () => {
            const target = join(work, `restore-${restoreTmp++}`);
            try {
              await restoreSnapshot(repo, await loadSnapshot(repo, rec.id), { target });
              const diff = compare(
                rec.listing,
                await describeDisk(Buffer.concat([Buffer.from(target), srcBytes])),
              );
              if (diff.length) throw new Error(`restore differs:\n${diff.slice(0, 30).join("\n")}`);
              return "ok";
            } finally {
              await rm(target, { recursive: true, force: true });
            }
          });
        }
      } finally {
        await repo.close();
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        console.log(
          `random actions (seed ${SEED}, codec ${codec}): ${log.length} steps in ${seconds} s, ${snapshots.length} snapshots left, ${restoreCount} restores; ${[...stats].map(([k, n]) => `${k} ${n}`).join(", ")}`,
        );
      }
    },
    Math.max(120_000, ACTIONS * 1000),
  );
});
