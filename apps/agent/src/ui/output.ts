import { isRepoError } from "@pwdr/repo";

/** Where a command's results go: JSON on stdout (machines) or text (people). */
export interface Output {
  readonly json: boolean;
  /** A final result: JSON document, or the text rendering. */
  result(value: unknown, text: () => string): void;
  /** A line for people; suppressed in JSON mode. */
  info(line: string): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    result(value, text) {
      process.stdout.write(json ? `${JSON.stringify(value)}\n` : ensureNewline(text()));
    },
    info(line) {
      if (!json) process.stderr.write(`${line}\n`);
    },
  };
}

function ensureNewline(s: string): string {
  return s.length === 0 || s.endsWith("\n") ? s : `${s}\n`;
}

/** Exit code and message for anything a command threw (docs/errors.md). */
export function describeFailure(err: unknown): { exitCode: number; code: string; message: string } {
  if (isRepoError(err)) return { exitCode: err.exitCode, code: err.code, message: err.message };
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === "string" ? e.code : "internal";
  return { exitCode: 1, code, message: typeof e?.message === "string" ? e.message : String(err) };
}

export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0))) ?? [];
  return rows
    .map(
      (r) =>
        `${r
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join("  ")
          .trimEnd()}\n`,
    )
    .join("");
}

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}
