import type { Catalog } from "@pwdr/catalog";
import type { Authorize } from "@pwdr/storage";
import { checkAgentCertificate, isRefusal } from "../agent-certificates.js";

/**
 * Agents get append-only access to their own host's repository and nothing
 * else; the catalog is asked on every request, so a revoked certificate is
 * refused from the next request on, not at the next connection.
 */
export function authorizeAgents(db: Catalog): Authorize {
  return async ({ identity, repository }) => {
    const check = await checkAgentCertificate(db, identity.fingerprintSha256);
    if (isRefusal(check)) return undefined;
    return check.hostId === repository ? "append" : undefined;
  };
}
