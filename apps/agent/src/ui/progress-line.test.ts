import { describe, expect, it } from "vitest";
import { bar, ProgressLine } from "./progress-line.js";

function fakeStream(isTTY: boolean) {
  const written: string[] = [];
  const stream = {
    isTTY,
    columns: 40,
    write: (s: string) => written.push(s),
  } as unknown as NodeJS.WriteStream;
  return { stream, written };
}

describe("progress line", () => {
  it("redraws one line in place on a terminal and clears it when done", () => {
    const { stream, written } = fakeStream(true);
    const line = new ProgressLine(true, stream);
    line.update("files 10");
    line.update("files 20 · a very long current path that does not fit the terminal width");
    line.done();
    expect(written[0]).toBe("\r\x1b[2Kfiles 10");
    expect(written[1]?.length).toBeLessThanOrEqual("\r\x1b[2K".length + 39);
    expect(written[1]?.endsWith("…")).toBe(true);
    expect(written.at(-1)).toBe("\r\x1b[2K");
  });

  it("prints nothing into a pipe or in JSON mode", () => {
    const pipe = fakeStream(false);
    new ProgressLine(true, pipe.stream).update("x");
    const json = fakeStream(true);
    new ProgressLine(false, json.stream).update("x");
    expect([...pipe.written, ...json.written]).toEqual([]);
  });

  it("draws a bar for a known total only", () => {
    expect(bar(50, 100, 10)).toBe("[====>     ] 50%");
    expect(bar(100, 100, 10)).toBe("[=========>] 100%");
    expect(bar(5, undefined)).toBe("");
  });
});
