import { randomBytes } from "node:crypto";
import type { JsonName } from "@peculiar/x509";
import { InvalidOptionsError } from "./errors.js";

const DAY_MS = 86_400_000;
/** Devices such as Raspberry Pis have no RTC and may lag until NTP syncs; a fresh certificate must still be valid for them. */
const CLOCK_SKEW_MS = 5 * 60_000;
/** RFC 5280 upper bound for commonName. */
const MAX_COMMON_NAME_LENGTH = 64;
/** RFC 5280: serial numbers are at most 20 octets. */
const MAX_SERIAL_HEX_DIGITS = 40;

export interface ValidityPeriod {
  notBefore: Date;
  notAfter: Date;
}

/** Built as structured data, not a "CN=…" string, so commas or equals signs in the name cannot inject RDNs. */
export function subjectName(commonName: string): JsonName {
  if (commonName.trim() === "" || commonName.length > MAX_COMMON_NAME_LENGTH) {
    throw new InvalidOptionsError(
      `commonName must be 1–${MAX_COMMON_NAME_LENGTH} characters, got ${JSON.stringify(commonName)}`,
    );
  }
  return [{ CN: [commonName] }];
}

export function validityPeriod(validityDays: number): ValidityPeriod {
  if (!Number.isFinite(validityDays) || validityDays <= 0) {
    throw new InvalidOptionsError(`validityDays must be a positive number, got ${validityDays}`);
  }
  const now = Date.now();
  const validityMs = validityDays * DAY_MS;
  // A certificate shorter-lived than the skew allowance (tests of renewal) is backdated by its own
  // length at most, so that a renewal at a fraction of its life does not come due at once.
  const backdateMs = Math.min(CLOCK_SKEW_MS, validityMs);
  return { notBefore: new Date(now - backdateMs), notAfter: new Date(now + validityMs) };
}

/** 16 random bytes with the top bit clear, so the DER INTEGER stays positive and exactly this value. */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString("hex");
}

/** A caller-chosen serial (hex), checked here because a bad one would only fail later in verifiers. */
export function checkedSerialNumber(serialNumber: string): string {
  const valid =
    /^[0-9a-f]+$/i.test(serialNumber) &&
    serialNumber.length <= MAX_SERIAL_HEX_DIGITS &&
    /[1-9a-f]/i.test(serialNumber);
  if (!valid) {
    throw new InvalidOptionsError(
      `serialNumber must be a non-zero hex string of at most ${MAX_SERIAL_HEX_DIGITS} digits, got ${JSON.stringify(serialNumber)}`,
    );
  }
  return serialNumber;
}
