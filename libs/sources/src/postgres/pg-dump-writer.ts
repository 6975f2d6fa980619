import type { SourceBackupContext } from "../source.js";
import type { PgConnection } from "./pg-connection.js";
import { streamTool, type ToolRun } from "./pg-tool.js";

/** Files in a snapshot are private: dumps hold every row, globals hold password hashes. */
export const FILE_MODE = 0o600;

/**
 * Streams tool output into the backup, counting bytes for progress. Dumps
 * may run concurrently; the first failure kills the others, since the
 * backup is lost anyway, and is the error reported (not the kills it caused).
 */
export class DumpWriter {
  #bytes = 0;
  readonly #abort = new AbortController();
  #failure: { error: unknown } | undefined;

  constructor(
    private readonly ctx: SourceBackupContext,
    readonly conn: PgConnection,
  ) {}

  async add(path: string, run: Omit<ToolRun, "conn" | "signal">): Promise<void> {
    const progress = this.ctx.onProgress;
    const counted = async function* (this: DumpWriter, source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        this.#bytes += chunk.length;
        progress?.({ phase: "dump", bytesDone: this.#bytes, item: path });
        yield chunk;
      }
    }.call(this, streamTool({ ...run, conn: this.conn, signal: this.#abort.signal }));
    try {
      await this.ctx.backup.addStream(path, counted, { mode: FILE_MODE });
    } catch (error) {
      this.fail(error);
      throw error;
    }
  }

  /** Records a failure of this backup (the first one wins) and kills every running dump. */
  fail(error: unknown): void {
    this.#failure ??= { error };
    this.#abort.abort();
  }

  /** Throws the backup's first failure, if there was one. */
  throwIfFailed(): void {
    if (this.#failure) throw this.#failure.error;
  }
}
