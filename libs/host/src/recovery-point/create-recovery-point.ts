import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { Backup, isRepoError, listSnapshots, type Repository, type SnapshotEntry } from "@pwdr/repo";
import type { SourceProgress } from "@pwdr/sources";
import type { HostDefinition, SourceDefinition } from "../definition/host-definition.js";
import { runCommand, shell } from "../services/run-command.js";
import { sampleSnapshotFiles } from "./file-sample.js";
import {
  newRecoveryPointId,
  RECOVERY_POINT_FORMAT,
  RECOVERY_POINT_KIND,
  type RecoveryPoint,
  recoveryPointTag,
  type SourceOutcome,
  statusOf,
} from "./recovery-point.js";
import { backupOptionsFor, backupSource } from "./source-backup.js";

export interface RecoveryPointProgress extends SourceProgress {
  source: string;
}

export interface CreateRecoveryPointOptions {
  onProgress?: (p: RecoveryPointProgress) => void;
  /** Source log lines (paths, counts, certificate warnings; never secrets). */
  log?: (line: string) => void;
  now?: () => Date;
  /** Recorded on every snapshot of the run, beside the recovery point's own tag. */
  tags?: string[];
  /**
   * Checked before each source: an aborted run stops there, writes no record
   * (so no recovery point appears) and rejects with the signal's reason.
   * Snapshots of sources already done stay valid and are reused by the next run.
   */
  signal?: AbortSignal;
}

/**
 * One backup run of a host: each source into its own snapshot (tagged with
 * the recovery point's id), then a record snapshot listing them with
 * versions, counts and a status per source. A failing source is recorded
 * with its reason and the others still run; a failed source writes no
 * snapshot, so nothing half-done looks complete.
 */
export async function createRecoveryPoint(
  repo: Repository,
  definition: HostDefinition,
  options: CreateRecoveryPointOptions = {},
): Promise<RecoveryPoint> {
  const now = options.now ?? (() => new Date());
  const started = now();
  const host = definition.host ?? hostname();
  const id = newRecoveryPointId(started, randomBytes(3).toString("hex"));
  const log = options.log ?? (() => {});
  // Listed once: every source's parent comes from the same listing.
  const earlier = await listSnapshots(repo, { host });
  const tags = [recoveryPointTag(id), ...(options.tags ?? [])];
  const sources: SourceOutcome[] = [];
  for (const def of definition.sources) {
    options.signal?.throwIfAborted();
    const onProgress = (p: SourceProgress) => options.onProgress?.({ ...p, source: def.name });
    const parent = latestOf(earlier, def);
    sources.push(await runSource(repo, { host, id, tags, def, parent, onProgress, log, now }));
  }
  const appVersion = definition.appVersionCommand
    ? await readAppVersion(definition.appVersionCommand, log)
    : undefined;
  const record: RecoveryPoint = {
    format: RECOVERY_POINT_FORMAT,
    id,
    host,
    startedAt: started.toISOString(),
    finishedAt: now().toISOString(),
    status: statusOf(sources),
    ...(appVersion ? { appVersion } : {}),
    sources,
    ...(definition.services ? { services: definition.services } : {}),
    ...(definition.health ? { health: definition.health } : {}),
  };
  options.signal?.throwIfAborted();
  await saveRecord(repo, record, tags, now);
  return record;
}

interface SourceRun {
  host: string;
  id: string;
  tags: string[];
  def: SourceDefinition;
  /** The newest earlier snapshot of this source, if any. */
  parent: SnapshotEntry | undefined;
  onProgress: (p: SourceProgress) => void;
  log: (line: string) => void;
  now: () => Date;
}

async function runSource(repo: Repository, run: SourceRun): Promise<SourceOutcome> {
  const { def } = run;
  const started = performance.now();
  const base = { name: def.name, kind: def.kind, definition: def };
  const durationMs = () => Math.round(performance.now() - started);
  let backup: Backup | undefined;
  try {
    const meta: Record<string, unknown> = {};
    backup = await Backup.start(repo, {
      host: run.host,
      tags: run.tags,
      source: { kind: def.kind, name: def.name },
      meta,
      now: run.now,
      ...(run.parent ? { parent: run.parent } : {}),
      ...backupOptionsFor(def),
    });
    const result = await backupSource(backup, def, run.onProgress, run.log);
    // The Backup reads its meta object when it finishes.
    Object.assign(meta, {
      ...result.meta,
      version: result.version,
      counts: result.counts,
      recoveryPoint: run.id,
    });
    const done = await backup.finish();
    backup = undefined;
    const sample = isFileTree(def) ? await sampleSnapshotFiles(repo, done.snapshot) : undefined;
    const warnings = [...done.warnings.map((w) => `${w.path}: ${w.message}`), ...sourceWarnings(result.meta)];
    return {
      ...base,
      status: "ok",
      snapshotId: done.id,
      version: result.version,
      counts: result.counts,
      files: done.snapshot.summary.files,
      bytes: done.snapshot.summary.bytes,
      addedBytes: done.snapshot.summary.addedBytes,
      durationMs: durationMs(),
      warnings,
      ...(sample ? { sample } : {}),
    };
  } catch (err) {
    await backup?.abort();
    run.log(`${def.name}: failed: ${(err as Error).message}`);
    return { ...base, status: "failed", durationMs: durationMs(), warnings: [], error: errorOf(err) };
  }
}

/** Configuration and data trees get a digested file sample that restore drills check. */
function isFileTree(def: SourceDefinition): boolean {
  return def.kind === "config" || def.kind === "files";
}

/** The newest snapshot of this host's source: unchanged files are not read again. */
function latestOf(earlier: readonly SnapshotEntry[], def: SourceDefinition): SnapshotEntry | undefined {
  return earlier.filter((s) => s.source?.name === def.name && s.source.kind === def.kind).at(-1);
}

function sourceWarnings(meta: Record<string, unknown>): string[] {
  const warnings = meta.warnings;
  return Array.isArray(warnings) ? warnings.filter((w): w is string => typeof w === "string") : [];
}

function errorOf(err: unknown): { code: string; message: string } {
  if (isRepoError(err)) return { code: err.code, message: err.message };
  return { code: "source_failed", message: err instanceof Error ? err.message : String(err) };
}

async function readAppVersion(command: string, log: (line: string) => void): Promise<string | undefined> {
  try {
    const { stdout } = await runCommand({
      argv: shell(command),
      timeoutMs: 10_000,
      purpose: "app version command",
    });
    return stdout.split("\n")[0]?.trim() || undefined;
  } catch (err) {
    log(`app version: ${(err as Error).message}`);
    return undefined;
  }
}

/** The record is a snapshot of its own, written last: its presence means the run ended. */
async function saveRecord(
  repo: Repository,
  record: RecoveryPoint,
  tags: string[],
  now: () => Date,
): Promise<void> {
  const backup = await Backup.start(repo, {
    host: record.host,
    tags,
    source: { kind: RECOVERY_POINT_KIND, name: "host" },
    meta: { recoveryPoint: record },
    now,
  });
  try {
    await backup.finish();
  } catch (err) {
    await backup.abort();
    throw err;
  }
}
