import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { API_ERROR_STATUS } from "./api-errors.js";

const README = readFileSync(join(import.meta.dirname, "..", "..", "..", "..", "README.md"), "utf8");

describe("the API error catalog", () => {
  it("is documented in the README operator guide, code for code, with its status", () => {
    const documented = [...README.matchAll(/^\| `([A-Z_]+)`\s*\| (\d{3})\s*\|/gm)].map((m) => [
      m[1],
      Number(m[2]),
    ]);
    expect(Object.fromEntries(documented)).toEqual(API_ERROR_STATUS);
  });
});
