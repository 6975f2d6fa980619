// Prompt collection of dead ArrayBuffers, shared by the blob workers and
// the main thread (plain JavaScript, like fastcdc.mjs).
//
// Why: an ArrayBuffer's memory is freed only when V8 collects its JS object,
// and V8 starts a collection for external memory only after it has grown by
// ~64 MiB. A thread that moves megabytes of buffers but allocates few JS
// objects (a blob worker: a chunk in, zstd and cipher output, an envelope
// out) otherwise holds tens of MiB of dead buffers per thread
// (BENCHMARKS.md, "Memory"). A young-generation collection of such a small
// heap takes well under a millisecond, so one every few MiB costs nothing
// measurable.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let collect;

/** V8's collector: the global one under --expose-gc, else one exposed to a fresh context. */
function collector() {
  if (!collect) {
    if (typeof globalThis.gc === "function") collect = globalThis.gc;
    else {
      setFlagsFromString("--expose-gc");
      collect = runInNewContext("gc");
    }
  }
  return collect;
}

/** Counts bytes of buffers a thread has finished with and collects its young generation every `every` bytes. */
export class GarbageMeter {
  constructor(every) {
    this.every = every;
    this.bytes = 0;
    this.collections = 0;
  }

  add(bytes) {
    this.bytes += bytes;
    if (this.bytes < this.every) return;
    this.bytes = 0;
    this.collections++;
    collector()({ type: "minor" });
  }
}
