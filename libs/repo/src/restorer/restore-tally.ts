import { displayPath } from "../browse/snapshot-path.js";
import type { TreeNode } from "../tree/tree-node.js";
import type {
  RestoreAction,
  RestoreItem,
  RestoreOptions,
  RestoreProgress,
  RestoreResult,
} from "./restore-types.js";

const PROGRESS_INTERVAL_MS = 250;

/** A restore's bookkeeping: the result, progress events (a few per second) and per-entry items. */
export class RestoreTally {
  readonly result: RestoreResult = { files: 0, dirs: 0, bytes: 0, skipped: 0, unchanged: 0, errors: [] };
  readonly #progress: RestoreProgress = {
    phase: "restore",
    files: 0,
    dirs: 0,
    bytes: 0,
    skipped: 0,
    totalFiles: 0,
    totalBytes: 0,
  };
  #lastEmit = 0;

  constructor(private readonly listeners: Pick<RestoreOptions, "onProgress" | "onItem">) {}

  /** Counts an entry the restore will visit, for the progress totals. */
  planned(node: TreeNode): void {
    if (node.type === "dir") return;
    this.#progress.totalFiles++;
    if (node.type === "file") this.#progress.totalBytes += node.size;
  }

  at(components: readonly Buffer[]): void {
    this.#progress.currentPath = displayPath(components);
  }

  /** Content bytes written (or, for links and dry runs, accounted for). */
  bytes(n: number): void {
    this.#progress.bytes += n;
    this.emit();
  }

  /** Content bytes the result reports as restored. */
  restoredBytes(n: number): void {
    this.result.bytes += n;
  }

  issue(path: Buffer, message: string): void {
    this.result.errors.push({ path: path.toString("utf8"), message });
  }

  done(path: Buffer, node: TreeNode, components: readonly Buffer[], action: RestoreAction): void {
    if (node.type === "dir") {
      this.result.dirs++;
      this.#progress.dirs++;
    } else {
      this.result.files++;
      this.#progress.files++;
    }
    this.#item(path, node, components, action);
  }

  unchanged(path: Buffer, node: TreeNode, components: readonly Buffer[]): void {
    this.result.unchanged++;
    this.#skipped(node);
    this.#item(path, node, components, "unchanged");
  }

  skip(path: Buffer, node: TreeNode, components: readonly Buffer[], reason: string): void {
    this.#skipped(node);
    this.#item(path, node, components, "skip", reason);
  }

  emit(final = false): void {
    const listener = this.listeners.onProgress;
    if (!listener) return;
    const now = performance.now();
    if (!final && now - this.#lastEmit < PROGRESS_INTERVAL_MS) return;
    this.#lastEmit = now;
    const p: RestoreProgress = { ...this.#progress };
    if (final) {
      p.phase = "done";
      delete p.currentPath;
    }
    listener(p);
  }

  #skipped(node: TreeNode): void {
    this.result.skipped++;
    this.#progress.skipped++;
    if (node.type === "file") this.#progress.bytes += node.size;
  }

  #item(
    path: Buffer,
    node: TreeNode,
    components: readonly Buffer[],
    action: RestoreAction,
    reason?: string,
  ): void {
    this.emit();
    if (!this.listeners.onItem) return;
    const item: RestoreItem = {
      path: displayPath(components),
      targetPath: path,
      type: node.type,
      action,
      size: node.type === "file" ? node.size : 0,
    };
    if (reason) item.reason = reason;
    this.listeners.onItem(item);
  }
}
