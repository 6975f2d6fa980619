import type { Catalog } from "@pwdr/catalog";
import { generateEnrollmentToken } from "@pwdr/protocol";

export interface CreatedToken {
  id: string;
  token: string;
  expiresAt: Date;
}

/** Creates a one-time enrollment token; only its hash is stored, so it is shown exactly once. */
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
  await db.auditEvent.create({
    data: {
      actor: options.createdBy,
      action: "token.create",
      target: `token:${row.id}`,
      details: { expiresAt },
    },
  });
  return { id: row.id, token, expiresAt };
}
