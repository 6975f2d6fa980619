import type { Catalog } from "@pwdr/catalog";
import type { Logger } from "@pwdr/logging";
import { isRefusal, judgeCertificate } from "./agent-certificates.js";

/** An open stream that ends when its certificate is no longer trusted. */
export interface WatchedStream {
  close(code: number, reason: string): void;
}

export interface CertificateWatchOptions {
  /** Bound on how long a revocation written by another process leaves a stream open. */
  intervalMs: number;
  log: Logger;
}

// One statement's IN list: under the 999 bound parameters Prisma allows a SQLite statement.
const FINGERPRINTS_PER_QUERY = 900;

/**
 * Re-checks the certificates of all open streams in the catalog on a timer,
 * up to 900 per query, and ends the streams whose certificate was revoked,
 * expired or deleted, or whose host was decommissioned. Revocation by this
 * controller ends a stream at once (the session registry); this sweep catches
 * what another process wrote (a replica, the local CLI) and expiry, within one
 * interval, for the cost of a few queries however many streams are open,
 * where a check per heartbeat would cost one query each.
 */
export class CertificateWatch {
  readonly #db: Catalog;
  readonly #log: Logger;
  readonly #timer: NodeJS.Timeout;
  readonly #streams = new Map<WatchedStream, string>();
  #sweeping = false;

  constructor(db: Catalog, options: CertificateWatchOptions) {
    this.#db = db;
    this.#log = options.log;
    this.#timer = setInterval(() => void this.#tick(), options.intervalMs);
    this.#timer.unref();
  }

  watch(stream: WatchedStream, fingerprintSha256: string): void {
    this.#streams.set(stream, fingerprintSha256);
  }

  unwatch(stream: WatchedStream): void {
    this.#streams.delete(stream);
  }

  get size(): number {
    return this.#streams.size;
  }

  /** Checks every watched certificate once; returns how many streams it ended. */
  async sweep(now = new Date()): Promise<number> {
    const byFingerprint = new Map<string, WatchedStream[]>();
    for (const [stream, fp] of this.#streams) {
      const list = byFingerprint.get(fp);
      if (list) list.push(stream);
      else byFingerprint.set(fp, [stream]);
    }
    const fingerprints = [...byFingerprint.keys()];
    let ended = 0;
    for (let i = 0; i < fingerprints.length; i += FINGERPRINTS_PER_QUERY) {
      const chunk = fingerprints.slice(i, i + FINGERPRINTS_PER_QUERY);
      const rows = await this.#db.agentCertificate.findMany({
        where: { fingerprintSha256: { in: chunk } },
        select: {
          fingerprintSha256: true,
          hostId: true,
          notAfter: true,
          revokedAt: true,
          host: { select: { state: true } },
        },
      });
      const found = new Map(rows.map((r) => [r.fingerprintSha256, r]));
      for (const fp of chunk) {
        const verdict = judgeCertificate(found.get(fp) ?? null, now);
        if (!isRefusal(verdict)) continue;
        for (const stream of byFingerprint.get(fp) ?? []) {
          this.#streams.delete(stream);
          stream.close(verdict.code, verdict.reason);
          ended++;
        }
      }
    }
    return ended;
  }

  close(): void {
    clearInterval(this.#timer);
  }

  // A sweep slower than the interval is not stacked on: the next tick starts after it.
  async #tick(): Promise<void> {
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      const ended = await this.sweep();
      if (ended > 0) this.#log.info("streams ended by certificate re-check", { ended });
    } catch (err) {
      this.#log.error("certificate re-check failed", { error: String(err) });
    } finally {
      this.#sweeping = false;
    }
  }
}
