// Outlives the test process that spawned it: once that process is gone, for whatever reason
// (SIGKILL, Ctrl-C, a crash), it tears down the resources listed in the state file and exits.
// Usage: node watchdog.mjs <owner pid> <state dir containing state.json>
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { cleanUp, isRunning } from "./cleanup.mjs";

const POLL_MS = 200;
const ownerPid = Number(process.argv[2]);
const stateDir = process.argv[3];

if (!(ownerPid > 0) || !stateDir) {
  console.error("usage: watchdog.mjs <owner pid> <state dir>");
  process.exit(2);
}

const timer = setInterval(() => {
  if (isRunning(ownerPid)) return;
  clearInterval(timer);
  const failures = cleanUp(readResources(), (line) => console.error(line));
  // On failure the state dir, with this log in it, is kept for a post-mortem.
  if (failures.length === 0) rmSync(stateDir, { recursive: true, force: true });
  process.exit(failures.length === 0 ? 0 : 1);
}, POLL_MS);

function readResources() {
  try {
    return JSON.parse(readFileSync(join(stateDir, "state.json"), "utf8")).resources;
  } catch (error) {
    console.error(`cannot read state: ${error.message}`);
    return [];
  }
}
