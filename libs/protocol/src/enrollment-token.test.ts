import { describe, expect, it } from "vitest";
import {
  generateEnrollmentToken,
  hashTokenSecret,
  InvalidEnrollmentTokenError,
  parseEnrollmentToken,
  sameFingerprint,
} from "./enrollment-token.js";

const FP = "ab".repeat(32);

describe("enrollment tokens", () => {
  it("round-trips the secret and the CA fingerprint; only the hash of the secret is kept", () => {
    const { token, secretHash } = generateEnrollmentToken(FP);
    const parsed = parseEnrollmentToken(token);
    expect(parsed.caFingerprint).toBe(FP);
    expect(hashTokenSecret(parsed.secret)).toBe(secretHash);
    expect(secretHash).not.toContain(parsed.secret);
  });

  it("gives every token a different secret", () => {
    expect(generateEnrollmentToken(FP).token).not.toBe(generateEnrollmentToken(FP).token);
  });

  it.each([
    "",
    "pwdr1.secret",
    `pwdr2.secret.${FP}`,
    `pwdr1..${FP}`,
    "pwdr1.secret.not-hex",
    `pwdr1.secret.${FP}.extra`,
  ])("refuses the malformed token %j", (token) => {
    expect(() => parseEnrollmentToken(token)).toThrow(InvalidEnrollmentTokenError);
  });

  it("compares fingerprints case-insensitively and rejects different ones", () => {
    expect(sameFingerprint(FP, FP.toUpperCase())).toBe(true);
    expect(sameFingerprint(FP, "cd".repeat(32))).toBe(false);
    expect(sameFingerprint(FP, "ab")).toBe(false);
  });
});
