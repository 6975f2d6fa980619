import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { type ApiToken, type ApiTokenRole, type Catalog, isUniqueViolation } from "@pwdr/catalog";

// 32 random bytes: a token cannot be guessed, so a fast unsalted hash is enough
// to keep the catalog from holding anything a caller could replay.
const TOKEN_PREFIX = "pwdrapi1_";
const TOKEN_PATTERN = /^pwdrapi1_[A-Za-z0-9_-]{43}$/;

/** Token names appear in audit actors ("token:<name>"), so they stay short and plain. */
export const API_TOKEN_NAME_PATTERN = "^[a-z0-9][a-z0-9._-]{0,62}$";

/** What the API and the CLI may show about a token: everything but its hash. */
export interface ApiTokenSummary {
  id: string;
  name: string;
  role: ApiTokenRole;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface CreatedApiToken extends ApiTokenSummary {
  /** The bearer token itself: shown once, never stored. */
  token: string;
}

/** The caller behind a valid bearer token. */
export interface ApiPrincipal {
  tokenId: string;
  name: string;
  role: ApiTokenRole;
}

export class ApiTokenNameTakenError extends Error {
  readonly code = "API_TOKEN_NAME_TAKEN";
  constructor(readonly tokenName: string) {
    super(`an API token named "${tokenName}" already exists; pick another name or revoke the old token`);
  }
}

export function hashApiToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export function summarizeApiToken(row: ApiToken): ApiTokenSummary {
  return {
    id: row.id,
    name: row.name,
    role: row.role as ApiTokenRole,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    lastUsedAt: row.lastUsedAt,
    revokedAt: row.revokedAt,
  };
}

/** Creates an API token; only its hash is stored, so the returned token is the only copy. */
export async function createApiToken(
  db: Catalog,
  options: { name: string; role: ApiTokenRole; ttlMs?: number },
): Promise<CreatedApiToken> {
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
  const expiresAt = options.ttlMs === undefined ? null : new Date(Date.now() + options.ttlMs);
  try {
    const row = await db.apiToken.create({
      data: { name: options.name, role: options.role, tokenHash: hashApiToken(token), expiresAt },
    });
    return { ...summarizeApiToken(row), token };
  } catch (err) {
    if (isUniqueViolation(err)) throw new ApiTokenNameTakenError(options.name);
    throw err;
  }
}

export async function listApiTokens(db: Catalog): Promise<ApiTokenSummary[]> {
  const rows = await db.apiToken.findMany({ orderBy: { createdAt: "asc" } });
  return rows.map(summarizeApiToken);
}

/** Revokes a token at once (every request looks the token up); undefined when there is no such token. */
export async function revokeApiToken(db: Catalog, id: string): Promise<ApiTokenSummary | undefined> {
  const row = await db.apiToken.findUnique({ where: { id } });
  if (!row) return undefined;
  if (row.revokedAt) return summarizeApiToken(row);
  return summarizeApiToken(await db.apiToken.update({ where: { id }, data: { revokedAt: new Date() } }));
}

/** Finds the live token behind a bearer value; undefined when it is unknown, malformed, expired or revoked. */
export async function authenticateApiToken(db: Catalog, token: string): Promise<ApiPrincipal | undefined> {
  if (!TOKEN_PATTERN.test(token)) return undefined;
  const hash = hashApiToken(token);
  const row = await db.apiToken.findUnique({ where: { tokenHash: hash } });
  if (!row || !sameHash(row.tokenHash, hash)) return undefined;
  const now = new Date();
  if (row.revokedAt || (row.expiresAt && row.expiresAt <= now)) return undefined;
  await touchLastUsed(db, row, now);
  return { tokenId: row.id, name: row.name, role: row.role as ApiTokenRole };
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && timingSafeEqual(x, y);
}

// A write per request would make every read a write; a minute is precise enough to spot unused tokens.
async function touchLastUsed(db: Catalog, row: ApiToken, now: Date): Promise<void> {
  if (row.lastUsedAt && now.getTime() - row.lastUsedAt.getTime() < 60_000) return;
  await db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: now } });
}
