import { Prisma } from "./gen/sqlite/client.js";

// Prisma's code for a unique constraint violation.
const UNIQUE_VIOLATION = "P2002";

/**
 * Whether a write failed on a unique constraint, e.g. a replayed report whose
 * idempotency key is already recorded: the caller then reads the existing row.
 * Works for both providers (their clients share one runtime).
 */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === UNIQUE_VIOLATION;
}
