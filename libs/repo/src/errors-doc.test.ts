import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ERRORS } from "./errors.js";

const DOC = readFileSync(join(import.meta.dirname, "../../../docs/errors.md"), "utf8");

describe("docs/errors.md", () => {
  const rows = new Map(
    [...DOC.matchAll(/^\| `([a-z_]+)` \| (\d+) \| (yes|no) \|/gm)].map((m) => [
      m[1],
      { exit: Number(m[2]), retryable: m[3] === "yes" },
    ]),
  );

  it("documents every error code with its exit code and retry flag", () => {
    for (const [code, spec] of Object.entries(REPO_ERRORS)) {
      expect(rows.get(code), `docs/errors.md is missing ${code}`).toEqual({
        exit: spec.exit,
        retryable: spec.retryable,
      });
    }
  });

  it("documents no code that does not exist", () => {
    for (const code of rows.keys()) expect(Object.keys(REPO_ERRORS)).toContain(code);
  });

  it("gives the errors users must tell apart distinct exit codes", () => {
    const distinct = [
      "repo_not_found",
      "wrong_password",
      "repo_format_newer",
      "no_space",
      "repo_locked",
      "unsafe_path",
    ] as const;
    const exits = distinct.map((c) => REPO_ERRORS[c].exit);
    expect(new Set(exits).size).toBe(exits.length);
  });
});
