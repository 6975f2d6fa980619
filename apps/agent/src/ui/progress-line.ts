/**
 * A one-line status on stderr, redrawn in place, for terminals only: in a
 * pipe, a log file or JSON mode it prints nothing.
 */
export class ProgressLine {
  readonly #enabled: boolean;
  #shown = false;

  constructor(
    enabled: boolean,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.#enabled = enabled && stream.isTTY === true;
  }

  update(text: string): void {
    if (!this.#enabled) return;
    const width = Math.max(20, (this.stream.columns ?? 80) - 1);
    this.stream.write(`\r\x1b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
    this.#shown = true;
  }

  done(): void {
    if (this.#shown) this.stream.write("\r\x1b[2K");
    this.#shown = false;
  }
}

/** "[=====>     ] 42%" for a known total, or a plain count when the total is unknown. */
export function bar(done: number, total: number | undefined, width = 24): string {
  if (!total) return "";
  const ratio = Math.min(1, done / total);
  const filled = Math.round(ratio * width);
  return `[${"=".repeat(Math.max(0, filled - 1))}${filled > 0 ? ">" : ""}${" ".repeat(width - filled)}] ${Math.floor(ratio * 100)}%`;
}
