// Repository benchmark: PWDR against restic and borg on the same data, in
// the same run. Phases (each tool in turn, the order rotated per run):
// first backup, no-change backup, backup after changing 1% of the files,
// full restore, check reading all data; plus repository size and peak RSS
// per phase (GNU time). Every step starts from the same cache state: what it
// reads (the source for a backup, the tool's repository for a restore or
// check) is read into the page cache first, and dirty pages are flushed. borg
// drops the page cache of every file it reads (posix_fadvise DONTNEED), so
// without this the tool after borg read its input from disk.
//
// usage: node tools/bench/repo-bench.mjs [--scale 0.25] [--runs 3] [--dir /var/tmp/pwdr-bench] [--tools pwdr,restic,borg]
// Installs restic, borgbackup and time from Debian when missing (never a test dependency).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const ROOT = resolve(import.meta.dirname, "../..");
const SHARED_BENCH = resolve(ROOT, "../shared/bench");
const { values: opt } = parseArgs({
  options: {
    scale: { type: "string", default: "0.25" },
    runs: { type: "string", default: "3" },
    dir: { type: "string", default: "/var/tmp/pwdr-bench" },
    tools: { type: "string", default: "pwdr,restic,borg" },
  },
});
const PASSWORD = "bench-password";
const env = {
  ...process.env,
  PWDR_PASSWORD: PASSWORD,
  RESTIC_PASSWORD: PASSWORD,
  BORG_PASSPHRASE: PASSWORD,
  BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: "yes",
  BORG_RELOCATED_REPO_ACCESS_IS_OK: "yes",
};

function sh(cmd, args, options = {}) {
  return (
    execFileSync(cmd, args, { stdio: ["ignore", "pipe", "inherit"], env, ...options }) ?? ""
  ).toString();
}

function ensureTools() {
  const need = [
    ["restic", "restic"],
    ["borg", "borgbackup"],
    ["/usr/bin/time", "time"],
  ].filter(([bin]) => spawnSync("sh", ["-c", `command -v ${bin}`]).status !== 0);
  if (need.length === 0) return;
  sh("apt-get", ["update", "-qq"]);
  sh("apt-get", ["install", "-y", "-qq", ...need.map(([, pkg]) => pkg)], {
    env: { ...env, DEBIAN_FRONTEND: "noninteractive" },
  });
}

/** Runs a command under GNU time; returns wall seconds and peak RSS in MiB. */
function timed(cmd, args, cwd) {
  const r = spawnSync("/usr/bin/time", ["-f", "%e %M", cmd, ...args], {
    cwd,
    env,
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  const last = r.stderr.trim().split("\n").at(-1) ?? "";
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stderr.slice(-2000)}`);
  const [secs, kb] = last.split(" ").map(Number);
  return { secs, rssMiB: Math.round(kb / 1024) };
}

function duBytes(path) {
  return Number(sh("du", ["-sb", path]).split("\t")[0]);
}

const AGENT = join(ROOT, "apps/agent/dist/main.js");
const tools = {
  pwdr: {
    init: (repo) => sh("node", [AGENT, "init", "-r", repo]),
    backup: (repo, src) => timed("node", [AGENT, "backup", "-r", repo, "--host", "bench", src]),
    restore: (repo, target) => timed("node", [AGENT, "restore", "-r", repo, "latest", "--target", target]),
    check: (repo) => timed("node", [AGENT, "check", "-r", repo, "--read-data"]),
  },
  restic: {
    init: (repo) => sh("restic", ["init", "-q", "-r", repo]),
    backup: (repo, src) => timed("restic", ["-r", repo, "backup", "-q", "--host", "bench", src]),
    restore: (repo, target) => timed("restic", ["-r", repo, "restore", "latest", "--target", target]),
    check: (repo) => timed("restic", ["-r", repo, "check", "--read-data"]),
  },
  borg: {
    init: (repo) => sh("borg", ["init", "-e", "repokey", repo]),
    backup: (repo, src) => timed("borg", ["create", `${repo}::b${Date.now()}`, src]),
    restore: (repo, target) => {
      mkdirSync(target, { recursive: true });
      const last = sh("borg", ["list", "--short", "--last", "1", repo]).trim();
      return timed("borg", ["extract", `${repo}::${last}`], target);
    },
    check: (repo) => timed("borg", ["check", "--verify-data", repo]),
  },
};

function dataset(base, scale) {
  const ref = join(base, `dataset-${scale}`);
  if (!existsSync(join(ref, ".complete"))) {
    rmSync(ref, { recursive: true, force: true });
    sh("node", [join(SHARED_BENCH, "gen-files.mjs"), join(ref, "data"), join(ref, "logs"), scale], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    writeFileSync(join(ref, ".complete"), "");
  }
  return ref;
}

/** Reads every file under `dir`, so the next step finds it in the page cache. */
function warmPageCache(dir) {
  sh("sh", ["-c", 'find "$1" -type f -print0 | xargs -0 -r cat > /dev/null', "warm", dir]);
}

function oneRun(base, ref, names, run) {
  const work = join(base, "work");
  rmSync(work, { recursive: true, force: true });
  sh("cp", ["-a", ref, work]);
  const order = names.map((_, i) => names[(i + run) % names.length]);
  const result = Object.fromEntries(names.map((n) => [n, {}]));
  const repos = Object.fromEntries(names.map((n) => [n, join(base, `repo-${n}`)]));
  for (const n of order) {
    rmSync(repos[n], { recursive: true, force: true });
    tools[n].init(repos[n]);
  }
  const phase = (key, reads, fn) => {
    for (const n of order) {
      warmPageCache(reads(n));
      // Flush the previous step's dirty pages first, so no tool pays for
      // another's writeback.
      sh("sync", []);
      const r = fn(n);
      result[n][key] = r.secs;
      result[n][`${key}Rss`] = r.rssMiB;
      console.error(
        `run ${run + 1} ${n.padEnd(6)} ${key.padEnd(10)} ${r.secs.toFixed(2)} s  ${r.rssMiB} MiB`,
      );
    }
  };
  const source = () => work;
  const repo = (n) => repos[n];
  phase("first", source, (n) => tools[n].backup(repos[n], work));
  phase("nochange", source, (n) => tools[n].backup(repos[n], work));
  sh("node", [join(SHARED_BENCH, "mutate.mjs"), String(run + 1), join(work, "data"), join(work, "logs")]);
  phase("changed1pct", source, (n) => tools[n].backup(repos[n], work));
  phase("restore", repo, (n) => {
    const target = join(base, `restore-${n}`);
    rmSync(target, { recursive: true, force: true });
    const r = tools[n].restore(repos[n], target);
    rmSync(target, { recursive: true, force: true });
    return r;
  });
  phase("check", repo, (n) => tools[n].check(repos[n]));
  for (const n of names) result[n].repoMiB = Math.round(duBytes(repos[n]) / 1048576);
  return result;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function report(runs, names, sizeMiB) {
  const keys = ["first", "nochange", "changed1pct", "restore", "check", "repoMiB"];
  const med = Object.fromEntries(
    names.map((n) => [
      n,
      Object.fromEntries(
        [...keys, ...keys.map((k) => `${k}Rss`)].map((k) => [
          k,
          median(runs.map((r) => r[n][k]).filter((v) => v !== undefined)),
        ]),
      ),
    ]),
  );
  const peak = (n) => Math.max(...keys.slice(0, 5).map((k) => med[n][`${k}Rss`]));
  const lines = [
    `dataset ${sizeMiB} MiB, ${runs.length} runs, medians; ratio = tool / restic (time: lower is better)`,
    "",
  ];
  lines.push(
    `| tool | first backup s | no-change s | 1% changed s | restore s | check --read-data s | repo MiB | peak RSS MiB |`,
  );
  lines.push(`|---|---|---|---|---|---|---|---|`);
  for (const n of names) {
    const cell = (k) => {
      const v = med[n][k];
      const ratio = med.restic ? ` (${(v / med.restic[k]).toFixed(2)}×)` : "";
      return `${k === "repoMiB" ? v : v.toFixed(2)}${n === "restic" ? "" : ratio}`;
    };
    const rss = med.restic ? ` (${(peak(n) / peak("restic")).toFixed(2)}×)` : "";
    lines.push(`| ${n} | ${keys.map(cell).join(" | ")} | ${peak(n)}${n === "restic" ? "" : rss} |`);
  }
  lines.push("", "Per-phase peak RSS (MiB, medians):", "");
  lines.push(
    `| tool | ${keys.slice(0, 5).join(" | ")} |`,
    `|---|${keys
      .slice(0, 5)
      .map(() => "---")
      .join("|")}|`,
  );
  for (const n of names)
    lines.push(
      `| ${n} | ${keys
        .slice(0, 5)
        .map((k) => med[n][`${k}Rss`])
        .join(" | ")} |`,
    );
  return lines.join("\n");
}

ensureTools();
const base = resolve(opt.dir);
mkdirSync(base, { recursive: true });
sh("npx", ["nx", "run", "@pwdr/agent:build", "--outputStyle=static"], {
  cwd: ROOT,
  stdio: ["ignore", "ignore", "inherit"],
});
const names = opt.tools.split(",");
const ref = dataset(base, opt.scale);
const sizeMiB = Math.round(duBytes(ref) / 1048576);
const runs = [];
for (let i = 0; i < Number(opt.runs); i++) runs.push(oneRun(base, ref, names, i));
const table = report(runs, names, sizeMiB);
writeFileSync(join(base, "results.json"), JSON.stringify(runs, null, 2));
console.log(table);
