import { spawn } from "node:child_process";
import { RepoError } from "@pwdr/repo";

/**
 * Runs a command whose stdout is backed up (pg_dump, redis-cli --rdb). The
 * returned `done` rejects when the command fails, so the caller can refuse
 * to write a snapshot of a truncated stream.
 */
export function commandOutput(argv: readonly string[]): {
  stdout: AsyncIterable<Buffer>;
  done: Promise<void>;
} {
  const [cmd, ...args] = argv;
  if (!cmd) throw new RepoError("invalid_argument", "--stdin-from-command needs a command after --");
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on("error", (err) =>
      reject(
        new RepoError(
          "source_failed",
          `cannot run ${cmd}: ${(err as NodeJS.ErrnoException).code ?? err.message}`,
        ),
      ),
    );
    child.on("close", (code, signal) => {
      if (code === 0) resolve();
      else {
        const why = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        const tail = stderr.trim().split("\n").slice(-3).join(" | ");
        reject(
          new RepoError("source_failed", `${cmd} ${why}; no snapshot was written${tail ? `: ${tail}` : ""}`),
        );
      }
    });
  });
  done.catch(() => {});
  return { stdout: child.stdout, done };
}
