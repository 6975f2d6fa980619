import { describe, expect, it } from "vitest";
import { GarbageMeter } from "../../worker/garbage-meter.mjs";
import { release } from "../../worker/release.mjs";

describe("release", () => {
  it("gives up the memory of buffers that own it: they are empty afterwards", () => {
    const a = Buffer.allocUnsafeSlow(1 << 20);
    const b = new Uint8Array(200_000);
    release([a, b]);
    expect([a.length, a.buffer.byteLength, b.byteLength]).toEqual([0, 0, 0]);
  });

  it("leaves alone views of a larger buffer, small buffers and shared memory", () => {
    const whole = Buffer.allocUnsafeSlow(1 << 20);
    const view = whole.subarray(0, 1 << 19);
    const small = Buffer.allocUnsafeSlow(1000);
    const shared = new Uint8Array(new SharedArrayBuffer(1 << 20));
    release([view, small, shared]);
    expect([whole.length, view.length, small.length, shared.length]).toEqual([
      1 << 20,
      1 << 19,
      1000,
      1 << 20,
    ]);
  });
});

describe("GarbageMeter", () => {
  it("collects once per `every` bytes counted", () => {
    const meter = new GarbageMeter(1000);
    meter.add(600);
    expect(meter.collections).toBe(0);
    meter.add(600);
    meter.add(999);
    expect(meter.collections).toBe(1);
    meter.add(5000);
    expect(meter.collections).toBe(2);
  });
});
