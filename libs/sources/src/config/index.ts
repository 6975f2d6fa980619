// The configuration source: config files, .env files, nginx and compose
// files and certificates, backed up with owner and mode; certificates are
// described (subject, SANs, expiry) without ever touching private keys.
export { backupConfig, CONFIG_FORMAT_VERSION } from "./backup-config.js";
export type {
  CertificateRecord,
  ConfigBackupOptions,
  ConfigBackupRecord,
  ConfigRestoreOptions,
  ConfigRestoreResult,
} from "./config-types.js";
export { restoreConfig } from "./restore-config.js";
