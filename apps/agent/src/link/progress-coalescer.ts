/**
 * Passes on at most one update per interval: the first at once, then the
 * latest of those that came in between. A slow link to the controller is
 * not flooded by a backup that reports every file.
 */
export class ProgressCoalescer<T> {
  #last = Number.NEGATIVE_INFINITY;
  #pending: T | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly emit: (update: T) => void,
  ) {}

  push(update: T): void {
    this.#pending = update;
    if (this.#timer) return;
    const wait = this.#last + this.intervalMs - performance.now();
    if (wait <= 0) this.#flush();
    else this.#timer = setTimeout(() => this.#flush(), wait);
  }

  /** Drops an update still waiting: the run ended and its result follows. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = undefined;
  }

  #flush(): void {
    this.#timer = undefined;
    const update = this.#pending;
    this.#pending = undefined;
    if (update === undefined) return;
    this.#last = performance.now();
    this.emit(update);
  }
}
