// The operator CLI's shared plumbing: the API client its global flags describe, and table-or-JSON output.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { DEFAULT_DATA_DIR } from "../cli-options.js";
import { ApiClient } from "./api-client.js";

interface GlobalOptions {
  url: string;
  token?: string;
  ca?: string;
  json?: boolean;
}

export const DEFAULT_CA = join(DEFAULT_DATA_DIR, "pki", "ca.crt");

export function clientFrom(command: Command): { client: ApiClient; json: boolean } {
  const opts = command.optsWithGlobals<GlobalOptions>();
  if (!opts.token) {
    throw new Error(
      "no API token: pass --token or set PWDR_API_TOKEN (an admin creates one with `api-token create`)",
    );
  }
  const caFile = opts.ca ?? (existsSync(DEFAULT_CA) ? DEFAULT_CA : undefined);
  const caPem = caFile ? readFileSync(caFile, "utf8") : undefined;
  return { client: new ApiClient({ url: opts.url, token: opts.token, caPem }), json: Boolean(opts.json) };
}

export function print(json: boolean, value: unknown, table: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : table());
}
