/**
 * Recently read delta bases (§5.1) by blob id, least recently used first
 * out, bounded by their plaintext bytes: a backup's consecutive new chunks
 * of a file often share a base. The entry being added always stays.
 */
export class BaseCache<T> {
  readonly #entries = new Map<string, { size: number; value: Promise<T> }>();
  #bytes = 0;

  constructor(
    private readonly limit: number,
    private readonly onEvict: (size: number) => void = () => {},
  ) {}

  /** The cached value for `id`, else `load()`'s, kept; a failed load is not kept. */
  get(id: string, size: number, load: () => Promise<T>): Promise<T> {
    const hit = this.#entries.get(id);
    if (hit) {
      this.#entries.delete(id);
      this.#entries.set(id, hit);
      return hit.value;
    }
    const entry = { size, value: load() };
    this.#entries.set(id, entry);
    this.#bytes += size;
    entry.value.catch(() => {
      if (this.#entries.get(id) === entry) this.#drop(id, entry.size);
    });
    for (const [key, e] of this.#entries) {
      if (this.#bytes <= this.limit || key === id) break;
      this.#drop(key, e.size);
      this.onEvict(e.size);
    }
    return entry.value;
  }

  #drop(id: string, size: number): void {
    this.#entries.delete(id);
    this.#bytes -= size;
  }
}
