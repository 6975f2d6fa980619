import { createWriteStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import { dumpFile, type Repository, type Snapshot } from "@pwdr/repo";
import { dbnameArg, maintenanceDatabase, type PgConnection } from "./pg-connection.js";
import type { PgTableManifest } from "./pg-manifest.js";
import { runTool } from "./pg-tool.js";

/** One line of `pg_restore -l`: what -L takes back, and the object's "<catalog oid> <object oid>". */
export interface TocEntry {
  line: string;
  objectKey: string;
}

/** The post-data entries each table's rows alone need, and the rest (foreign keys, triggers …). */
export interface PostDataSplit {
  byTable: Map<string, TocEntry[]>;
  rest: TocEntry[];
}

/** Parses `pg_restore -l`; comment lines start with ";". */
export function parseToc(listing: string): TocEntry[] {
  const entries: TocEntry[] = [];
  for (const line of listing.split("\n")) {
    const m = /^\d+; (\d+) (\d+) /.exec(line);
    if (m) entries.push({ line, objectKey: `${m[1]} ${m[2]}` });
  }
  return entries;
}

/**
 * Gives each table (by its data path) the entries its manifest lists as
 * built from its rows alone; everything else is left for after all data.
 */
export function splitPostData(
  entries: readonly TocEntry[],
  tables: readonly Pick<PgTableManifest, "path" | "builds">[],
): PostDataSplit {
  const owner = new Map<string, string>();
  for (const t of tables) for (const key of t.builds ?? []) owner.set(key, t.path);
  const byTable = new Map<string, TocEntry[]>();
  const rest: TocEntry[] = [];
  for (const e of entries) {
    const path = owner.get(e.objectKey);
    if (path === undefined) rest.push(e);
    else byTable.set(path, [...(byTable.get(path) ?? []), e]);
  }
  return { byTable, rest };
}

export interface PostDataSource {
  repo: Repository;
  snapshot: Snapshot;
  conn: PgConnection;
  /** The post-data dump's path in the snapshot. */
  path: string;
}

/**
 * A database's post-data dump (DDL only, a few KiB) in a private temporary
 * directory: pg_restore -j and -L need a seekable archive, which stdin is not.
 */
export class PostDataArchive {
  #lists = 0;

  private constructor(
    private readonly source: PostDataSource,
    private readonly dir: string,
    readonly entries: TocEntry[],
  ) {}

  static async fetch(source: PostDataSource): Promise<PostDataArchive> {
    const dir = await mkdtemp(join(tmpdir(), "pwdr-post-data-"));
    try {
      const file = join(dir, "post-data.dump");
      await writeSnapshotFile(source, file);
      const listing = await runTool({
        conn: source.conn,
        tool: "pg_restore",
        args: ["-l", file],
        database: maintenanceDatabase(source.conn),
        what: `pg_restore -l of ${source.path}`,
      });
      return new PostDataArchive(source, dir, parseToc(listing));
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Restores `entries` into `database` with up to `jobs` connections; `what` names them in errors. */
  async restore(entries: readonly TocEntry[], database: string, jobs: number, what: string): Promise<void> {
    if (entries.length === 0) return;
    const list = join(this.dir, `list-${this.#lists++}`);
    await writeFile(list, `${entries.map((e) => e.line).join("\n")}\n`, { mode: 0o600 });
    const parallel = Math.min(jobs, entries.length);
    await runTool({
      conn: this.source.conn,
      tool: "pg_restore",
      args: [
        "--no-password",
        "--exit-on-error",
        ...(parallel > 1 ? ["-j", String(parallel)] : []),
        "-L",
        list,
        "-d",
        dbnameArg(database),
        join(this.dir, "post-data.dump"),
      ],
      database,
      what: `pg_restore of ${what} into "${database}"`,
    });
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

async function writeSnapshotFile(source: PostDataSource, file: string): Promise<void> {
  const out = createWriteStream(file, { mode: 0o600 });
  const written = finished(out);
  written.catch(() => {}); // awaited below; a dump failure is the error to report
  try {
    await dumpFile(source.repo, source.snapshot, source.path, out);
  } finally {
    out.end();
  }
  await written;
}
