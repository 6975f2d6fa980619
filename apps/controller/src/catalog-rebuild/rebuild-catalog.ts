import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Catalog, Prisma } from "@pwdr/catalog";
import { listRecoveryPoints, type StoredRecoveryPoint } from "@pwdr/host";
import { LocalBackend, Repository } from "@pwdr/repo";
import { CONTROLLER_REPOSITORY_KIND } from "../fleet-storage/host-repositories.js";
import { loadMasterKey, type MasterKey } from "../fleet-storage/master-key.js";
import { unsealPassword } from "../fleet-storage/sealed-password.js";
import { readSealedPasswordFiles, type SealedPasswordFile } from "../fleet-storage/sealed-password-file.js";
import { recordStoredPoint } from "./stored-point-rows.js";

type Tx = Prisma.TransactionClient;

export interface RebuildCounts {
  hosts: number;
  repositories: number;
  recoveryPoints: number;
  snapshots: number;
}

export interface RebuildReport {
  /** Rows this run added; 0 everywhere when the catalog already had them all. */
  created: RebuildCounts;
  /** Host repositories read, with what they hold. */
  repositories: { name: string; host: string; recoveryPoints: number }[];
  /** Repository directories that could not be read, and why. */
  skipped: { name: string; reason: string }[];
}

/**
 * Recreates the catalog rows that the host repositories can vouch for: per
 * directory in `<dataDir>/repos` its Repository row (password from the sealed
 * copy in `<dataDir>/secrets/repositories`), its Host (id = directory name,
 * name from the snapshots, offline, no labels) and every recovery point and
 * snapshot recorded in it. Existing rows are left as they are, so running it
 * again, or on a catalog that lost only some rows, adds only what is missing.
 */
export async function rebuildCatalog(db: Catalog, dataDir: string): Promise<RebuildReport> {
  const masterKey = await loadMasterKey(dataDir);
  const sealed = await readSealedPasswordFiles(dataDir);
  const report: RebuildReport = {
    created: { hosts: 0, repositories: 0, recoveryPoints: 0, snapshots: 0 },
    repositories: [],
    skipped: [],
  };
  for (const name of await repositoryDirs(dataDir)) {
    const points = await readPoints(dataDir, name, masterKey, sealed.get(name)).catch((err: Error) => {
      report.skipped.push({ name, reason: err.message });
      return undefined;
    });
    if (!points) continue;
    const created = await db.$transaction((tx) => recordRepository(tx, name, sealed.get(name), points));
    for (const key of Object.keys(created) as (keyof RebuildCounts)[]) report.created[key] += created[key];
    report.repositories.push({ name, host: hostNameOf(name, points), recoveryPoints: points.length });
  }
  return report;
}

async function repositoryDirs(dataDir: string): Promise<string[]> {
  const entries = await readdir(join(dataDir, "repos"), { withFileTypes: true }).catch(
    (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return [];
      throw err;
    },
  );
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

async function readPoints(
  dataDir: string,
  name: string,
  masterKey: MasterKey,
  sealed: SealedPasswordFile | undefined,
): Promise<StoredRecoveryPoint[]> {
  if (!sealed) {
    throw new Error(
      `no sealed password in secrets/repositories/${name}.sealed; the repository cannot be opened`,
    );
  }
  const password = unsealPassword(masterKey, name, sealed);
  const repo = await Repository.open(new LocalBackend(join(dataDir, "repos", name)), password);
  try {
    return await listRecoveryPoints(repo);
  } finally {
    await repo.close();
  }
}

/** The host name the newest recovery point recorded; the directory name for an empty repository. */
function hostNameOf(name: string, points: readonly StoredRecoveryPoint[]): string {
  return points.at(-1)?.host ?? name;
}

async function recordRepository(
  tx: Tx,
  name: string,
  sealed: SealedPasswordFile | undefined,
  points: readonly StoredRecoveryPoint[],
): Promise<RebuildCounts> {
  const created: RebuildCounts = { hosts: 0, repositories: 0, recoveryPoints: 0, snapshots: 0 };
  if (!(await tx.host.findUnique({ where: { id: name } }))) {
    await tx.host.create({
      data: {
        id: name,
        name: await freeHostName(tx, hostNameOf(name, points), name),
        labels: {},
        state: "offline",
      },
    });
    created.hosts++;
  }
  let repository = await tx.repository.findUnique({ where: { name } });
  if (!repository && sealed) {
    repository = await tx.repository.create({
      data: {
        name,
        kind: CONTROLLER_REPOSITORY_KIND,
        location: name,
        passwordCiphertext: new Uint8Array(sealed.ciphertext),
        passwordKeyId: sealed.keyId,
      },
    });
    created.repositories++;
  }
  if (!repository) return created;
  for (const point of points) {
    const added = await recordStoredPoint(tx, { hostId: name, repositoryId: repository.id }, point);
    created.recoveryPoints += added.recoveryPoints;
    created.snapshots += added.snapshots;
  }
  return created;
}

// Host names are unique; enrollment gives a second host of one name a suffix, and so does this.
async function freeHostName(tx: Tx, wanted: string, hostId: string): Promise<string> {
  const taken = await tx.host.findUnique({ where: { name: wanted } });
  return taken ? `${wanted}-${hostId.slice(0, 8)}` : wanted;
}
