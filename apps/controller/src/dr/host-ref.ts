import type { Catalog, Host } from "@pwdr/catalog";
import { DrNotFoundError } from "./dr-errors.js";

/** A host by id or by name: operators think in names. */
export async function resolveHost(db: Catalog, ref: string): Promise<Host> {
  const host = await db.host.findFirst({ where: { OR: [{ id: ref }, { name: ref }] } });
  if (!host) throw new DrNotFoundError("host", ref);
  return host;
}
