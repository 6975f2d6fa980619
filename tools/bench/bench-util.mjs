// Helpers shared by the benchmark scripts: GNU time measurements and medians.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Installs GNU time from Debian when it is missing: wall time and peak RSS come from it. */
export function ensureGnuTime(env) {
  if (spawnSync("sh", ["-c", "command -v /usr/bin/time"]).status === 0) return;
  const apt = (args) =>
    execFileSync("apt-get", args, { stdio: "ignore", env: { ...env, DEBIAN_FRONTEND: "noninteractive" } });
  apt(["update", "-qq"]);
  apt(["install", "-y", "-qq", "time"]);
}

/**
 * Runs a command under GNU time (its report goes to `timeFile`); returns wall
 * seconds, CPU seconds (user + system, children included), peak RSS in MiB
 * (the largest single process) and stdout. Throws with the end of stderr on failure.
 */
export function timedRun(cmd, args, { env, timeFile }) {
  const r = spawnSync("/usr/bin/time", ["-o", timeFile, "-f", "%e %M %U %S", cmd, ...args], {
    env,
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stderr.slice(-3000)}`);
  const [secs, kb, user, sys] = readFileSync(timeFile, "utf8")
    .trim()
    .split("\n")
    .at(-1)
    .split(" ")
    .map(Number);
  return { secs, cpuSecs: user + sys, rssMiB: Math.round(kb / 1024), stdout: r.stdout };
}

/** Median of the defined values; undefined when there are none. */
export function median(xs) {
  const s = xs.filter((x) => x !== undefined).sort((a, b) => a - b);
  if (s.length === 0) return undefined;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
