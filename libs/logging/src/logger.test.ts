import { afterEach, describe, expect, it, vi } from "vitest";
import { createLogger } from "./logger.js";

describe("logger", () => {
  afterEach(() => vi.restoreAllMocks());

  it("writes one JSON line per event with level, component and fields, honouring the minimum level", () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    const log = createLogger("agent", "info");
    log.debug("hidden");
    log.info("connected", { host: "pi-7" });
    log.error("failed", { code: "x" });
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0] as string);
    expect(first).toMatchObject({ level: "info", component: "agent", msg: "connected", host: "pi-7" });
    expect(Number.isNaN(Date.parse(first.time))).toBe(false);
    expect(JSON.parse(lines[1] as string)).toMatchObject({ level: "error", msg: "failed", code: "x" });
  });
});
