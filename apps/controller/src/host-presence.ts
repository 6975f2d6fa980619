import type { Catalog } from "@pwdr/catalog";
import type { Logger } from "@pwdr/logging";

export interface HostPresenceOptions {
  /** How often pending presence is written (1 s): the most lastSeenAt lags behind a heartbeat. */
  flushIntervalMs?: number;
  /** lastSeenAt resolution (100 ms): heartbeats in one bucket share one UPDATE. */
  bucketMs?: number;
  /**
   * A host still marked online whose lastSeenAt is older than this is marked
   * offline (three missed heartbeats, as the Welcome tells agents): hosts a
   * crashed controller left online, or whose agent vanished without closing.
   * Off when omitted.
   */
  silentAfterMs?: number;
  log: Logger;
}

type Pending = { state: "online"; seenAt: number } | { state: "offline" };

// One statement's IN list: under the 999 bound parameters Prisma allows a SQLite statement.
const IDS_PER_STATEMENT = 900;

/**
 * Writes hosts' heartbeats and disconnects to the catalog in batches. At 10,000
 * sessions and a 10 s heartbeat a write per heartbeat is 1,000 statements a
 * second; batched it is a handful per flush. Only the latest event of a host
 * counts, and flushes run one after the other, so a disconnect is never
 * overwritten by an older heartbeat.
 */
export class HostPresence {
  readonly #db: Catalog;
  readonly #log: Logger;
  readonly #bucketMs: number;
  readonly #timer: NodeJS.Timeout;
  readonly #silentAfterMs: number | undefined;
  #pending = new Map<string, Pending>();
  #writing: Promise<void> = Promise.resolve();

  constructor(db: Catalog, options: HostPresenceOptions) {
    this.#db = db;
    this.#log = options.log;
    this.#bucketMs = options.bucketMs ?? 100;
    this.#silentAfterMs = options.silentAfterMs;
    this.#timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 1_000);
    this.#timer.unref();
  }

  /** A heartbeat arrived: the host is online and was seen now. */
  seen(hostId: string, at = Date.now()): void {
    this.#pending.set(hostId, { state: "online", seenAt: at });
  }

  /** The host's stream ended. */
  offline(hostId: string): void {
    this.#pending.set(hostId, { state: "offline" });
  }

  /**
   * Drops what is pending for the host and waits for a write in progress, so
   * that the caller's own write of the host (a Hello) is not undone by an older event.
   */
  async settle(hostId: string): Promise<void> {
    this.#pending.delete(hostId);
    await this.#writing;
  }

  /** Writes everything pending; resolves once it is in the catalog. */
  flush(): Promise<void> {
    if (this.#pending.size === 0 && this.#silentAfterMs === undefined) return this.#writing;
    const batch = this.#pending;
    this.#pending = new Map();
    this.#writing = this.#writing.then(() =>
      this.#write(batch).catch((err: unknown) => {
        // Presence is refreshed by the next heartbeat; losing one batch only delays it.
        this.#log.error("host presence not written", { hosts: batch.size, error: String(err) });
      }),
    );
    return this.#writing;
  }

  /** Stops the timer and writes what is pending; call before closing the catalog. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }

  async #write(batch: Map<string, Pending>): Promise<void> {
    const { offline, online } = this.#group(batch);
    // The silent-host sweep goes first, so that this batch's heartbeats keep their hosts online.
    const statements = this.#silentAfterMs === undefined ? [] : [this.#sweepSilent(this.#silentAfterMs)];
    for (const ids of chunks(offline)) {
      statements.push(
        this.#db.host.updateMany({
          where: { id: { in: ids }, state: { not: "decommissioned" } },
          data: { state: "offline" },
        }),
      );
    }
    for (const [seenAt, ids] of online) {
      for (const chunk of chunks(ids)) {
        statements.push(
          this.#db.host.updateMany({
            where: { id: { in: chunk }, state: { not: "decommissioned" } },
            data: { state: "online", lastSeenAt: new Date(seenAt) },
          }),
        );
      }
    }
    await this.#db.$transaction(statements);
  }

  #sweepSilent(silentAfterMs: number) {
    return this.#db.host.updateMany({
      where: {
        state: "online",
        OR: [{ lastSeenAt: null }, { lastSeenAt: { lt: new Date(Date.now() - silentAfterMs) } }],
      },
      data: { state: "offline" },
    });
  }

  // A heartbeat's time is rounded up to its bucket, but never past the newest
  // heartbeat of the batch: lastSeenAt is never earlier than the heartbeat nor
  // later than the controller actually heard from any host.
  #group(batch: Map<string, Pending>): { offline: string[]; online: Map<number, string[]> } {
    const offline: string[] = [];
    let newest = 0;
    for (const p of batch.values()) if (p.state === "online") newest = Math.max(newest, p.seenAt);
    const online = new Map<number, string[]>();
    for (const [hostId, p] of batch) {
      if (p.state === "offline") {
        offline.push(hostId);
        continue;
      }
      const at = Math.min(Math.ceil(p.seenAt / this.#bucketMs) * this.#bucketMs, newest);
      const ids = online.get(at);
      if (ids) ids.push(hostId);
      else online.set(at, [hostId]);
    }
    return { offline, online };
  }
}

function chunks(ids: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < ids.length; i += IDS_PER_STATEMENT) out.push(ids.slice(i, i + IDS_PER_STATEMENT));
  return out;
}
