/** Stable codes callers can branch on; never reuse a retired code. */
export type PkiErrorCode =
  | "PKI_INVALID_OPTIONS"
  | "PKI_INVALID_PEM"
  | "PKI_KEY_MISMATCH"
  | "PKI_CSR_BAD_SIGNATURE"
  | "PKI_CSR_UNSUPPORTED_KEY";

export class PkiError extends Error {
  readonly code: PkiErrorCode;

  constructor(code: PkiErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A caller passed options that cannot produce a usable certificate. */
export class InvalidOptionsError extends PkiError {
  constructor(message: string) {
    super("PKI_INVALID_OPTIONS", message);
  }
}

/** Input that should be PEM (certificate, key or CSR) could not be decoded. */
export class InvalidPemError extends PkiError {
  constructor(what: string, reason: string, cause?: unknown) {
    super("PKI_INVALID_PEM", `${what} could not be read: ${reason}`, { cause });
  }
}

/** The CA private key does not belong to the CA certificate, so anything it signed would not verify. */
export class KeyMismatchError extends PkiError {
  constructor() {
    super(
      "PKI_KEY_MISMATCH",
      "the CA private key does not match the CA certificate's public key; load the key that was created with this CA certificate",
    );
  }
}

/** A CSR was refused; the code says why. */
export class InvalidCsrError extends PkiError {
  constructor(code: "PKI_CSR_BAD_SIGNATURE" | "PKI_CSR_UNSUPPORTED_KEY", message: string) {
    super(code, message);
  }
}

/** Checks the code rather than `instanceof`, so it holds when two copies of this package are loaded. */
export function isPkiError(error: unknown): error is PkiError {
  return (
    error instanceof Error &&
    "code" in error &&
    typeof error.code === "string" &&
    error.code.startsWith("PKI_")
  );
}
