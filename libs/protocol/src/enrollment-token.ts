import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Enrollment tokens look like `pwdr1.<secret>.<ca-sha256>`: the secret is the
 * one-time credential (the catalog keeps only its hash), and the CA
 * fingerprint lets a new agent pin the controller's CA before it sends the
 * secret anywhere.
 */
const PREFIX = "pwdr1";

export interface ParsedEnrollmentToken {
  secret: string;
  caFingerprint: string;
}

export class InvalidEnrollmentTokenError extends Error {
  readonly code = "enrollment_token_malformed";
  constructor() {
    super(
      "enrollment token is malformed: expected pwdr1.<secret>.<ca-fingerprint> as printed by `token create`",
    );
    this.name = "InvalidEnrollmentTokenError";
  }
}

export function generateEnrollmentToken(caFingerprint: string): { token: string; secretHash: string } {
  const secret = randomBytes(24).toString("base64url");
  return { token: `${PREFIX}.${secret}.${caFingerprint}`, secretHash: hashTokenSecret(secret) };
}

export function parseEnrollmentToken(token: string): ParsedEnrollmentToken {
  const [prefix, secret, caFingerprint, ...rest] = token.trim().split(".");
  if (
    prefix !== PREFIX ||
    !secret ||
    !caFingerprint ||
    rest.length > 0 ||
    !/^[0-9a-f]{64}$/.test(caFingerprint)
  ) {
    throw new InvalidEnrollmentTokenError();
  }
  return { secret, caFingerprint };
}

export function hashTokenSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

export function sameFingerprint(a: string, b: string): boolean {
  const x = Buffer.from(a.toLowerCase());
  const y = Buffer.from(b.toLowerCase());
  return x.length === y.length && timingSafeEqual(x, y);
}
