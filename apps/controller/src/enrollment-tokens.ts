import type { Catalog } from "@pwdr/catalog";
import { generateEnrollmentToken } from "@pwdr/protocol";

export interface CreatedToken {
  id: string;
  token: string;
  expiresAt: Date;
}

/**
 * Creates a one-time enrollment token; only its hash is stored, so it is shown exactly once.
 * The caller records the audit event: the CLI and the API name the actor differently.
 */
export async function createEnrollmentToken(
  db: Catalog,
  caFingerprint: string,
  options: { ttlMs: number; labels: Record<string, string>; createdBy: string },
): Promise<CreatedToken> {
  const { token, secretHash } = generateEnrollmentToken(caFingerprint);
  const expiresAt = new Date(Date.now() + options.ttlMs);
  const row = await db.enrollmentToken.create({
    data: { tokenHash: secretHash, labels: options.labels, expiresAt, createdBy: options.createdBy },
  });
  return { id: row.id, token, expiresAt };
}
