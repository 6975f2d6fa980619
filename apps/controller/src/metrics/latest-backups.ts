// The newest finished backup run of every host, as the catalog records it:
// one grouped query for the run ids, and the rows themselves only for runs not
// seen at an earlier scrape (a finished run never changes).
import type { Catalog } from "@pwdr/catalog";

/** How one source fared in a backup run, from JobRun.details.sources (the agent's report). */
export interface SourceRun {
  name: string;
  kind: string;
  ok: boolean;
  durationSeconds?: number;
  readBytes?: number;
  addedBytes?: number;
}

export interface BackupRun {
  runId: string;
  hostId: string;
  state: string;
  durationSeconds: number;
  readBytes: number;
  addedBytes: number;
  sources: SourceRun[];
}

/** Runs that reached a verdict; a cancelled run says nothing about the sources. */
const VERDICT_STATES = ["succeeded", "partial", "failed"];

// One statement's IN list: under the 999 bound parameters Prisma allows a SQLite statement.
const IDS_PER_QUERY = 900;

export class LatestBackups {
  #byRunId = new Map<string, BackupRun>();

  constructor(private readonly db: Catalog) {}

  /** The newest recorded backup run per host id (UUIDv7 ids: the greatest is the newest row). */
  async load(): Promise<Map<string, BackupRun>> {
    const latest = await this.db.jobRun.groupBy({
      by: ["hostId"],
      where: { state: { in: VERDICT_STATES }, job: { kind: "backup" } },
      _max: { id: true },
    });
    const ids = latest.flatMap((r) => (r._max.id ? [r._max.id] : []));
    const missing = ids.filter((id) => !this.#byRunId.has(id));
    const fetched = await this.#fetch(missing);
    const next = new Map<string, BackupRun>();
    for (const id of ids) {
      const run = this.#byRunId.get(id) ?? fetched.get(id);
      if (run) next.set(id, run);
    }
    // Only the current newest runs stay cached: memory follows the fleet, not the history.
    this.#byRunId = next;
    return new Map([...next.values()].map((run) => [run.hostId, run]));
  }

  async #fetch(ids: string[]): Promise<Map<string, BackupRun>> {
    const runs = new Map<string, BackupRun>();
    for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
      const rows = await this.db.jobRun.findMany({
        where: { id: { in: ids.slice(i, i + IDS_PER_QUERY) } },
        select: {
          id: true,
          hostId: true,
          state: true,
          startedAt: true,
          finishedAt: true,
          bytesRead: true,
          bytesAdded: true,
          details: true,
        },
      });
      for (const row of rows) {
        runs.set(row.id, {
          runId: row.id,
          hostId: row.hostId,
          state: row.state,
          durationSeconds: row.finishedAt ? (row.finishedAt.getTime() - row.startedAt.getTime()) / 1000 : 0,
          readBytes: Number(row.bytesRead),
          addedBytes: Number(row.bytesAdded),
          sources: sourcesOf(row.details),
        });
      }
    }
    return runs;
  }
}

const number = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isFinite(value) ? value : undefined;

/** The per-source outcomes of a backup's details; entries without a name are skipped. */
export function sourcesOf(details: unknown): SourceRun[] {
  const sources = (details as { sources?: unknown } | null)?.sources;
  if (!Array.isArray(sources)) return [];
  return sources.flatMap((entry: Record<string, unknown>) => {
    if (!entry || typeof entry.name !== "string") return [];
    const durationMs = number(entry.durationMs);
    const readBytes = number(entry.bytes);
    const addedBytes = number(entry.addedBytes);
    return [
      {
        name: entry.name,
        kind: typeof entry.kind === "string" ? entry.kind : "unknown",
        ok: entry.status === "ok",
        ...(durationMs !== undefined ? { durationSeconds: durationMs / 1000 } : {}),
        ...(readBytes !== undefined ? { readBytes } : {}),
        ...(addedBytes !== undefined ? { addedBytes } : {}),
      },
    ];
  });
}
