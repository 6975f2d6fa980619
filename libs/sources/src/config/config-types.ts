import type { TreeRestoreOptions, TreeRestoreResult } from "../tree/restore-tree.js";

export interface ConfigBackupOptions {
  /** Absolute files and directories: /etc/piwardrive, nginx config, compose and .env files, cert dirs. */
  paths: string[];
  /** Paths that may be absent on some hosts (e.g. no nginx); skipped and listed instead of failing. */
  optionalPaths?: string[];
  /** Absolute paths (whole subtrees) or base-name globs with `*` and `?`, e.g. "*.swp". */
  exclude?: string[];
  /** "Now" for certificate expiry; tests pin it. */
  now?: Date;
  /** Certificates expiring within this many days are warned about; default 30. */
  expiryWarningDays?: number;
  /** Receives progress lines; they carry paths and certificate metadata only, never file contents. */
  log?: (line: string) => void;
}

/** Public metadata of one certificate found in a backed-up file. */
export interface CertificateRecord {
  path: string;
  /** Position in the file (0 = first certificate, the leaf in a chain file). */
  index: number;
  subject: string;
  issuer: string;
  commonName: string | null;
  dnsNames: string[];
  ipAddresses: string[];
  notBefore: string;
  notAfter: string;
  /** Whole days until notAfter; negative once expired. */
  daysLeft: number;
  fingerprintSha256: string;
  isCa: boolean;
  /** Expired, or expiring within the warning window. */
  expiresSoon: boolean;
}

/** What `backupConfig` puts in `SourceBackupResult.meta`. */
export interface ConfigBackupRecord {
  /** Paths backed up, as given (after removing missing optional ones). */
  paths: string[];
  /** Optional paths that did not exist. */
  missingOptional: string[];
  certificates: CertificateRecord[];
  /** Expiring or expired certificates, and certificate files that could not be parsed. */
  warnings: string[];
}

export type ConfigRestoreOptions = TreeRestoreOptions;

export type ConfigRestoreResult = TreeRestoreResult;
