import type { Catalog } from "@pwdr/catalog";
import type { Authorize } from "@pwdr/storage";
import { checkAgentCertificate, isRefusal } from "../agent-certificates.js";
import { drReadGrant } from "../dr/cross-host-grant.js";

/**
 * Agents get append-only access to their own host's repository, read-only
 * access to a failed host's repository while a DR run restores it onto them,
 * and nothing else; the catalog is asked on every request, so a revoked certificate is
 * refused from the next request on, not at the next connection.
 */
export function authorizeAgents(db: Catalog): Authorize {
  return async ({ identity, repository }) => {
    const check = await checkAgentCertificate(db, identity.fingerprintSha256);
    if (isRefusal(check)) return undefined;
    if (check.hostId === repository) return "append";
    return (await drReadGrant(db, check.hostId, repository)) ? "read" : undefined;
  };
}
