import { mkdir, open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { processAlive, RepoError } from "@pwdr/repo";
import type { RecordedJob } from "./journal.js";

/** Held while a job runs, so the daemon and `pwdr-agent now` never run the same job twice at once. */
export interface JobLock {
  release(): Promise<void>;
}

/** An exclusive pid file per job; one left by a dead process is taken over. */
export async function acquireJobLock(stateDir: string, job: RecordedJob): Promise<JobLock> {
  const dir = join(stateDir, "locks");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${job}.pid`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, "wx", 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return { release: () => rm(path, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
      if (holder > 0 && processAlive(holder)) {
        throw new RepoError(
          "repo_locked",
          `the ${job} job is already running (pid ${holder}); wait for it to finish`,
        );
      }
      await rm(path, { force: true });
    }
  }
  throw new RepoError(
    "repo_locked",
    `could not take the ${job} job lock in ${dir}; another process keeps taking it`,
  );
}
