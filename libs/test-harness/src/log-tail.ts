import { readFileSync } from "node:fs";

/** The last lines of a server log, for error messages; never throws. */
export function logTail(path: string, lines = 30): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch (error) {
    return `(no log at ${path}: ${(error as Error).message})`;
  }
}
