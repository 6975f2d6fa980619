import { type Catalog, openCatalog } from "@pwdr/catalog";
import { type Command, InvalidArgumentError } from "commander";

export const DEFAULT_DATA_DIR = "/var/lib/pwdr-controller";

export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new InvalidArgumentError("expected a port number 0-65535");
  return n;
}

export function label(value: string, previous: Record<string, string>): Record<string, string> {
  const [key, ...rest] = value.split("=");
  if (!key || rest.length === 0) throw new InvalidArgumentError(`label "${value}" must look like key=value`);
  return { ...previous, [key]: rest.join("=") };
}

/** The options of commands that open the catalog directly (bootstrap and local admin). */
export function withCatalogOptions(command: Command): Command {
  return command
    .option("--data-dir <dir>", "controller state directory", DEFAULT_DATA_DIR)
    .option("--catalog <url>", "catalog database URL");
}

export async function withCatalog<T>(
  opts: { dataDir: string; catalog?: string },
  use: (db: Catalog) => Promise<T>,
): Promise<T> {
  const catalog = await openCatalog({ url: opts.catalog ?? `file:${opts.dataDir}/catalog.db` });
  try {
    return await use(catalog.db);
  } finally {
    await catalog.close();
  }
}
