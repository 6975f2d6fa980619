import { join } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { describe, expect, it } from "vitest";
import { LocalBackend } from "./local-backend.js";
import { runBackendSuite } from "./testing/backend-suite.js";
import { ThrottledBackend } from "./throttled-backend.js";

async function local(): Promise<LocalBackend> {
  const b = new LocalBackend(join(makeTempDir("pwdr-throttle-"), "repo"));
  await b.create();
  return b;
}

runBackendSuite("ThrottledBackend", async () => new ThrottledBackend(await local(), 1e9));

describe("ThrottledBackend", () => {
  it("lets one second of burst through, then spaces saves to the limit", async () => {
    let clock = 0;
    const waits: number[] = [];
    const fake = { now: () => clock, sleep: async (ms: number) => void waits.push(Math.round(ms)) };
    const backend = new ThrottledBackend(await local(), 1000, fake);
    const save = (name: string, bytes: number) =>
      backend.save({ type: "index", name: name.repeat(64) }, Buffer.alloc(bytes));
    await save("a", 1000);
    expect(waits).toEqual([]);
    // 500 more bytes at the same instant exceed the one-second burst by half a second.
    await save("b", 500);
    expect(waits).toEqual([500]);
    clock = 10_000;
    await save("c", 1000);
    expect(waits).toEqual([500]);
    await save("d", 2000);
    expect(waits).toEqual([500, 1000]);
  });

  it("refuses a limit that is not positive", async () => {
    expect(() => new ThrottledBackend(new LocalBackend("/nonexistent"), 0)).toThrow(
      /more than 0 bytes per second/,
    );
  });

  it("closes the backend it wraps (a remote backend's connection)", async () => {
    const inner = await local();
    let closed = 0;
    const closing = Object.assign(Object.create(inner) as LocalBackend, {
      close: async () => {
        closed++;
      },
    });
    await new ThrottledBackend(closing, 1000).close();
    expect(closed).toBe(1);
  });

  it("passes prune's temporary-file clean-up through", async () => {
    const backend = new ThrottledBackend(await local(), 1e6);
    expect(await backend.removeTemporaryFiles(0)).toBe(0);
  });
});
