import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { fromJsonString, toJsonString } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Logger } from "@pwdr/logging";
import { writeFileAtomic } from "@pwdr/pki";
import { type JobResult, JobResultSchema } from "@pwdr/protocol";

/** Run ids name files: anything else (a path, a dot file) is never read or deleted. */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export function isRunId(text: string): boolean {
  return RUN_ID.test(text);
}

/**
 * Job results not yet acknowledged by the controller: one file per run,
 * `<stateDir>/outbox/<run_id>`, written atomically before the result is
 * sent and deleted on ResultAck. A file that cannot be read back (torn by a
 * power cut, edited by hand) is moved to `<stateDir>/outbox-rejected/` and
 * logged, never replayed and never fatal.
 */
export class Outbox {
  readonly dir: string;
  readonly rejectedDir: string;

  constructor(
    stateDir: string,
    private readonly log: Logger,
  ) {
    this.dir = join(stateDir, "outbox");
    this.rejectedDir = join(stateDir, "outbox-rejected");
  }

  async put(result: JobResult): Promise<void> {
    if (!isRunId(result.runId)) throw new Error(`run id "${result.runId}" cannot name an outbox file`);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(join(this.dir, result.runId), toJsonString(JobResultSchema, result), 0o600);
  }

  async has(runId: string): Promise<boolean> {
    return isRunId(runId) && (await this.#names()).includes(runId);
  }

  /** Drops an acknowledged result; false when there was none (acknowledged before, or not ours). */
  async ack(runId: string): Promise<boolean> {
    if (!isRunId(runId)) return false;
    try {
      await rm(join(this.dir, runId));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw err;
    }
    await syncDirectory(this.dir);
    return true;
  }

  async count(): Promise<number> {
    return (await this.#names()).length;
  }

  /** Every waiting result, oldest first (by finish time). */
  async pending(): Promise<JobResult[]> {
    const results: JobResult[] = [];
    for (const name of await this.#names()) {
      const result = await this.#read(name);
      if (result) results.push(result);
    }
    return results.sort((a, b) => finishedMs(a) - finishedMs(b) || a.runId.localeCompare(b.runId));
  }

  async #names(): Promise<string[]> {
    const names = await readdir(this.dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return [];
      throw err;
    });
    // Temp files of an interrupted write start with a dot and are not results.
    return names.filter(isRunId);
  }

  async #read(name: string): Promise<JobResult | undefined> {
    const path = join(this.dir, name);
    try {
      const result = fromJsonString(JobResultSchema, await readFile(path, "utf8"));
      if (result.runId !== name) throw new Error(`it holds run ${result.runId || "(none)"}`);
      return result;
    } catch (err) {
      await mkdir(this.rejectedDir, { recursive: true, mode: 0o700 });
      await rename(path, join(this.rejectedDir, name));
      this.log.error("unreadable outbox file moved aside; its result will not be reported", {
        file: path,
        movedTo: join(this.rejectedDir, name),
        reason: (err as Error).message,
      });
      return undefined;
    }
  }
}

function finishedMs(result: JobResult): number {
  return result.finishedAt ? timestampMs(result.finishedAt) : 0;
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
