import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { JOB_ERRORS } from "./job-errors.js";

const DOC = readFileSync(join(import.meta.dirname, "../../../../docs/errors.md"), "utf8");

describe("docs/errors.md, agent job error codes", () => {
  const section = DOC.slice(DOC.indexOf("## Agent job error codes"));
  const rows = new Map(
    [...section.matchAll(/^\| `([a-z_]+)` \| (yes|no) \|/gm)].map((m) => [m[1], m[2] === "yes"]),
  );

  it("documents every code with its retry flag, and no other", () => {
    expect(Object.fromEntries(rows)).toEqual(
      Object.fromEntries(Object.entries(JOB_ERRORS).map(([code, { retryable }]) => [code, retryable])),
    );
  });
});
