import type { Catalog } from "@pwdr/catalog";
import type { Access, Authorize } from "@pwdr/storage";
import { checkAgentCertificate, isRefusal } from "../agent-certificates.js";
import { drReadGrant } from "../dr/cross-host-grant.js";

/**
 * How long a granted access is trusted without asking the catalog again. A
 * restore reads thousands of blobs a second, each a request; two catalog
 * queries apiece were most of the controller's work in the DR benchmark.
 * A revoked certificate or an ended DR grant is refused at most this long
 * after the change. Refusals are never cached, so a new grant works at once.
 */
export const ACCESS_CACHE_MS = 1_000;
const MAX_CACHED = 10_000;

/**
 * Agents get append-only access to their own host's repository, read-only
 * access to a failed host's repository while a DR run restores it onto them,
 * and nothing else; the catalog is asked again once a granted access is
 * older than ACCESS_CACHE_MS, so a revoked certificate is refused within a
 * second, also on an open connection.
 */
export function authorizeAgents(db: Catalog, now: () => number = Date.now): Authorize {
  const granted = new Map<string, { access: Access; until: number }>();
  return async ({ identity, repository }) => {
    const key = `${identity.fingerprintSha256}\0${repository}`;
    const cached = granted.get(key);
    if (cached && cached.until > now()) return cached.access;
    const access = await decide(db, identity.fingerprintSha256, repository);
    if (!access) {
      granted.delete(key);
      return undefined;
    }
    if (granted.size >= MAX_CACHED) granted.clear();
    granted.set(key, { access, until: now() + ACCESS_CACHE_MS });
    return access;
  };
}

async function decide(db: Catalog, fingerprint: string, repository: string): Promise<Access | undefined> {
  const check = await checkAgentCertificate(db, fingerprint);
  if (isRefusal(check)) return undefined;
  if (check.hostId === repository) return "append";
  return (await drReadGrant(db, check.hostId, repository)) ? "read" : undefined;
}
