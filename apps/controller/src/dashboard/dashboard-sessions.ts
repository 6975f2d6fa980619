import { createHash, randomBytes } from "node:crypto";
import type { ApiTokenRole, Catalog } from "@pwdr/catalog";
import type { ApiPrincipal } from "../api-tokens.js";

/** How long a dashboard sign-in lasts unless its token expires first. */
export const DEFAULT_SESSION_TTL_MS = 8 * 60 * 60 * 1000;
// Sign-ins are rare; the bound only keeps a flood of them from growing memory without end.
const MAX_SESSIONS = 10_000;

interface Session {
  tokenId: string;
  expiresAt: Date;
}

export interface CreatedSession {
  /** The cookie value: 256 random bits, known only to the browser (the store keeps its hash). */
  id: string;
  expiresAt: Date;
  /** Its lifetime from now, for the cookie's Max-Age. */
  maxAgeMs: number;
}

export interface DashboardSessionsOptions {
  db: Catalog;
  ttlMs?: number;
  now?: () => Date;
}

/**
 * Dashboard sign-ins: a random session id mapped, in this process's memory,
 * to the API token an operator signed in with. The token itself is not kept:
 * every request looks the token row up again, so revoking or expiring the
 * token ends its sessions at once, and the role is always the token's current
 * one. A controller restart signs everyone out.
 */
export class DashboardSessions {
  readonly #sessions = new Map<string, Session>();
  readonly #db: Catalog;
  readonly #ttlMs: number;
  readonly #now: () => Date;

  constructor(options: DashboardSessionsOptions) {
    this.#db = options.db;
    this.#ttlMs = options.ttlMs ?? DEFAULT_SESSION_TTL_MS;
    this.#now = options.now ?? (() => new Date());
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Starts a session for a token that was just authenticated; it ends with the token at the latest. */
  create(tokenId: string, tokenExpiresAt: Date | null): CreatedSession {
    this.#makeRoom();
    const id = randomBytes(32).toString("base64url");
    const now = this.#now().getTime();
    const ttlEnd = new Date(now + this.#ttlMs);
    const expiresAt = tokenExpiresAt && tokenExpiresAt < ttlEnd ? tokenExpiresAt : ttlEnd;
    this.#sessions.set(hashOf(id), { tokenId, expiresAt });
    return { id, expiresAt, maxAgeMs: expiresAt.getTime() - now };
  }

  /** The principal of a live session whose token is still valid; undefined otherwise (and the session ends). */
  async resolve(id: string): Promise<{ principal: ApiPrincipal; expiresAt: Date } | undefined> {
    const key = hashOf(id);
    const session = this.#sessions.get(key);
    if (!session) return undefined;
    const now = this.#now();
    if (session.expiresAt <= now) {
      this.#sessions.delete(key);
      return undefined;
    }
    const token = await this.#db.apiToken.findUnique({ where: { id: session.tokenId } });
    if (!token || token.revokedAt || (token.expiresAt && token.expiresAt <= now)) {
      this.#sessions.delete(key);
      return undefined;
    }
    return {
      principal: { tokenId: token.id, name: token.name, role: token.role as ApiTokenRole },
      expiresAt: session.expiresAt,
    };
  }

  /** Ends a session (sign-out); false when there was none. */
  end(id: string): boolean {
    return this.#sessions.delete(hashOf(id));
  }

  #makeRoom(): void {
    if (this.#sessions.size < MAX_SESSIONS) return;
    const now = this.#now();
    for (const [key, session] of this.#sessions) if (session.expiresAt <= now) this.#sessions.delete(key);
    // Still full: the oldest sign-in goes (a Map iterates in insertion order).
    const oldest = this.#sessions.keys().next();
    if (this.#sessions.size >= MAX_SESSIONS && !oldest.done) this.#sessions.delete(oldest.value);
  }
}

// Keyed by a hash, so the map never holds a value that would be accepted as a cookie.
function hashOf(id: string): string {
  return createHash("sha256").update(id).digest("hex");
}
