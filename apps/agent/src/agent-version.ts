import { createRequire } from "node:module";

// src/ and dist/ both sit one level below the package root.
export const AGENT_VERSION: string = (
  createRequire(import.meta.url)("../package.json") as { version: string }
).version;
