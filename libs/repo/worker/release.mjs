// Frees buffers now instead of at a later garbage collection (plain
// JavaScript, shared by the blob workers and the main thread).
//
// Why: an ArrayBuffer's memory goes back only when V8 collects its JS
// object, and V8 starts a collection for external memory only after it has
// grown by ~64 MiB; a buffer that lived long enough to be promoted waits for
// a full collection. Transferring a buffer through a closed MessagePort
// detaches it and drops the message, which frees the memory at once
// (BENCHMARKS.md, "Memory").
import { MessageChannel } from "node:worker_threads";

const { port1: sink } = new MessageChannel();
sink.close();

/** Buffers smaller than this are left to the collector: they cost little and come from malloc's pools. */
const RELEASE_MIN = 64 * 1024;

/**
 * Gives up the memory of views that own their whole (non-shared)
 * ArrayBuffer; others are left alone. The views are empty afterwards: call
 * only on buffers nothing uses any more.
 */
export function release(views) {
  const owned = [];
  for (const v of views) {
    if (
      v.byteLength >= RELEASE_MIN &&
      v.byteOffset === 0 &&
      v.byteLength === v.buffer.byteLength &&
      v.buffer instanceof ArrayBuffer &&
      !owned.includes(v.buffer)
    )
      owned.push(v.buffer);
  }
  if (owned.length === 0) return;
  try {
    sink.postMessage(null, owned);
  } catch {
    // An untransferable buffer: the collector frees it later.
  }
}
