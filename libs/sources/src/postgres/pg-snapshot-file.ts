import { Writable } from "node:stream";
import {
  dumpFile,
  findNode,
  isRepoError,
  loadTree,
  nodeDisplayName,
  RepoError,
  type Repository,
  type Snapshot,
  splitPath,
} from "@pwdr/repo";
import { MANIFEST_PATH } from "./pg-layout.js";
import type { PgManifest } from "./pg-manifest.js";

/** Reads the manifest a PostgreSQL backup stored in its snapshot. */
export async function readManifest(
  repo: Repository,
  snapshot: Snapshot & { id: string },
): Promise<PgManifest> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  try {
    await dumpFile(repo, snapshot, MANIFEST_PATH, sink);
  } catch (err) {
    if (!isRepoError(err, "path_not_found")) throw err;
    throw new RepoError(
      "invalid_argument",
      `snapshot ${snapshot.id.slice(0, 12)} is not a PostgreSQL backup (it has no ${MANIFEST_PATH}); pick a snapshot of the postgres source`,
    );
  }
  const manifest = JSON.parse(Buffer.concat(chunks).toString("utf8")) as PgManifest;
  if (manifest.format !== 1) {
    throw new RepoError(
      "invalid_argument",
      `PostgreSQL backup format ${manifest.format} is newer than this build; upgrade pwdr`,
    );
  }
  return manifest;
}

/**
 * The sizes of files in a snapshot, for scheduling the largest first; a path
 * not found is left out. Each directory's tree is read once, however many
 * tables a database has.
 */
export async function snapshotFileSizes(
  repo: Repository,
  snapshot: Snapshot,
  paths: readonly string[],
): Promise<Map<string, number>> {
  const byDir = new Map<string, string[]>();
  for (const path of paths) {
    const dir = path.slice(0, path.lastIndexOf("/"));
    byDir.set(dir, [...(byDir.get(dir) ?? []), path]);
  }
  const sizes = new Map<string, number>();
  for (const [dir, files] of byDir) {
    const node = await findNode(repo, snapshot.tree, splitPath(dir));
    if (node?.type !== "dir" || !node.subtree) continue;
    const tree = await loadTree(repo, node.subtree);
    const sizeOf = new Map(
      tree.nodes.filter((n) => n.type === "file").map((n) => [nodeDisplayName(n), n.size]),
    );
    for (const file of files) {
      const size = sizeOf.get(file.slice(dir.length + 1));
      if (size !== undefined) sizes.set(file, size);
    }
  }
  return sizes;
}
