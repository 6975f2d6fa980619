import { join } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { describe, expect, it } from "vitest";
import { withoutStaging } from "../test-support/fixtures.js";
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

  it("spaces the appends to a staged file to the same limit", async () => {
    const clock = 0;
    const waits: number[] = [];
    const fake = { now: () => clock, sleep: async (ms: number) => void waits.push(Math.round(ms)) };
    const backend = new ThrottledBackend(await local(), 1000, fake);
    const staged = await (backend.stage as NonNullable<typeof backend.stage>)("data");
    await staged.append([Buffer.alloc(1000)]);
    await staged.append([Buffer.alloc(300), Buffer.alloc(200)]);
    expect(waits).toEqual([500]);
    await staged.commit("e".repeat(64));
    expect(await backend.stat({ type: "data", name: "e".repeat(64) })).toMatchObject({ size: 1500 });
  });

  it("offers no staged files when the wrapped backend has none", async () => {
    expect(new ThrottledBackend(withoutStaging(await local()), 1000).stage).toBeUndefined();
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
