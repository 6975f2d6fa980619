import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const child = fileURLToPath(new URL("./open-catalog-child.ts", import.meta.url));

/** Opens the catalog in a separate Node process at `startAt`; resolves to the migrations it applied. */
export async function openCatalogInChild(url: string, startAt: number): Promise<string[]> {
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", child], {
    env: { ...process.env, CATALOG_URL: url, START_AT: String(startAt) },
  });
  return JSON.parse(stdout) as string[];
}
