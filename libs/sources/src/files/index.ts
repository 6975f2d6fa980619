// The application-data source: file trees such as /data scan data and
// /var/log/piwardrive, with include/exclude, restored whole or in part.
export {
  backupFileTree,
  FILES_FORMAT_VERSION,
  type FileTreeBackupOptions,
  type FileTreeBackupRecord,
  fileTreeBackupOptions,
} from "./backup-file-tree.js";
export { restoreFileTree } from "./restore-file-tree.js";
