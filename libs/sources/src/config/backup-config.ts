import { RepoError } from "@pwdr/repo";
import type { SourceBackupContext, SourceBackupResult } from "../source.js";
import { checkPaths } from "../tree/check-paths.js";
import { excludeFilter } from "../tree/exclude-filter.js";
import type { ConfigBackupOptions, ConfigBackupRecord } from "./config-types.js";
import { scanCertificates } from "./scan-certificates.js";
import { walkPaths } from "./walk-paths.js";

/** Layout of what this source stores; bump when the snapshot or meta changes shape. */
export const CONFIG_FORMAT_VERSION = "config/1";
const DEFAULT_EXPIRY_WARNING_DAYS = 30;

/**
 * Backs up configuration files and directories (owner, mode and content via
 * the archiver) and reports the certificates among them.
 *
 * Callers store `meta` in the snapshot's meta: restoreConfig reads `paths`
 * from it.
 *
 * Secret safety: file contents go only into the (encrypted) repository. The
 * result, warnings, log lines and error messages carry paths, counts and
 * certificate public metadata; private keys are never parsed.
 */
export async function backupConfig(
  ctx: SourceBackupContext,
  options: ConfigBackupOptions,
): Promise<SourceBackupResult> {
  const log = options.log ?? (() => {});
  const warningDays = options.expiryWarningDays ?? DEFAULT_EXPIRY_WARNING_DAYS;
  if (!Number.isFinite(warningDays) || warningDays < 0) {
    throw new RepoError("invalid_argument", `expiryWarningDays must be a number ≥ 0, got ${warningDays}`);
  }
  const { present, missingOptional } = await checkPaths(
    options.paths,
    options.optionalPaths ?? [],
    "configuration paths",
  );
  for (const path of missingOptional) log(`config: optional path ${path} does not exist, skipped`);

  ctx.onProgress?.({ phase: "scan", bytesDone: 0 });
  const plan = await walkPaths(present, excludeFilter(options.exclude ?? []));
  const bytesTotal = plan.files.reduce((sum, f) => sum + f.size, 0);
  log(`config: backing up ${plan.files.length} files under ${present.length} paths`);
  await addRoots(ctx, plan.roots, bytesTotal);

  const scan = await scanCertificates(plan.files, options.now ?? new Date(), warningDays);
  for (const warning of scan.warnings) log(`config: warning: ${warning}`);
  const record: ConfigBackupRecord = { paths: present, missingOptional, ...scan };
  return {
    kind: "config",
    version: CONFIG_FORMAT_VERSION,
    counts: countsOf(plan.files.length, record),
    meta: { ...record },
  };
}

async function addRoots(
  ctx: SourceBackupContext,
  roots: readonly string[],
  bytesTotal: number,
): Promise<void> {
  for (const root of roots) {
    ctx.onProgress?.({ phase: "backup", bytesDone: 0, bytesTotal, item: root });
    await ctx.backup.addPath(root);
  }
  ctx.onProgress?.({ phase: "done", bytesDone: bytesTotal, bytesTotal });
}

function countsOf(files: number, record: ConfigBackupRecord): Record<string, number> {
  return {
    files,
    certificates: record.certificates.length,
    "certificates:expiring": record.certificates.filter((c) => c.expiresSoon).length,
  };
}
