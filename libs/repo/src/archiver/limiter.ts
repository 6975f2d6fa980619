/**
 * Bounds work in flight by a budget (a count or bytes). A request larger
 * than the whole budget still runs when nothing else is in flight, so one
 * huge item cannot deadlock.
 */
export class Budget {
  #used = 0;
  readonly #queue: { amount: number; grant: () => void }[] = [];

  constructor(private readonly limit: number) {}

  async acquire(amount: number): Promise<void> {
    if (this.#fits(amount) && this.#queue.length === 0) {
      this.#used += amount;
      return;
    }
    await new Promise<void>((grant) => this.#queue.push({ amount, grant }));
  }

  release(amount: number): void {
    this.#used -= amount;
    while (this.#queue.length > 0 && this.#fits((this.#queue[0] as { amount: number }).amount)) {
      const next = this.#queue.shift() as { amount: number; grant: () => void };
      this.#used += next.amount;
      next.grant();
    }
  }

  #fits(amount: number): boolean {
    return this.#used === 0 || this.#used + amount <= this.limit;
  }
}
