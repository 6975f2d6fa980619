/** Progress of a backup, emitted at most a few times per second by the archiver. */
export interface BackupProgress {
  phase: "backup" | "flush" | "done";
  files: number;
  dirs: number;
  bytesRead: number;
  bytesAdded: number;
  /** Files reused from the parent snapshot without reading them. */
  filesUnchanged: number;
  currentPath?: string;
}

export type ProgressListener = (p: BackupProgress) => void;

/** Limits how often a listener is called; the last state is always delivered by `flush`. */
export function throttle(
  listener: ProgressListener | undefined,
  intervalMs = 250,
): {
  emit(p: BackupProgress): void;
  flush(p: BackupProgress): void;
} {
  let last = 0;
  return {
    emit(p) {
      if (!listener) return;
      const now = performance.now();
      if (now - last < intervalMs) return;
      last = now;
      listener({ ...p });
    },
    flush(p) {
      listener?.({ ...p });
    },
  };
}
