/** Stable codes tests and CI scripts can branch on. */
export type HarnessErrorCode =
  | "HARNESS_BINARY_NOT_FOUND"
  | "HARNESS_USER_NOT_FOUND"
  | "HARNESS_COMMAND_FAILED"
  | "HARNESS_START_FAILED"
  | "HARNESS_INVALID_OPTIONS";

export class HarnessError extends Error {
  readonly code: HarnessErrorCode;

  constructor(code: HarnessErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A server binary (PostgreSQL, Redis) is not installed where the harness looks. */
export class BinaryNotFoundError extends HarnessError {
  constructor(message: string) {
    super("HARNESS_BINARY_NOT_FOUND", message);
  }
}

/** Running as root, servers must run as an unprivileged OS user that does not exist. */
export class UserNotFoundError extends HarnessError {
  constructor(user: string, hint: string) {
    super("HARNESS_USER_NOT_FOUND", `OS user "${user}" does not exist; ${hint}`);
  }
}

/** A helper command (initdb, pg_ctl) exited non-zero; the message carries its output. */
export class CommandFailedError extends HarnessError {
  constructor(command: string, exit: string, output: string) {
    super("HARNESS_COMMAND_FAILED", `${command} ${exit}:\n${output.trim()}`);
  }
}

/** A server did not become ready; the message ends with the tail of its log. */
export class ServerStartError extends HarnessError {
  constructor(message: string, logTail: string, options?: ErrorOptions) {
    super("HARNESS_START_FAILED", `${message}\n--- server log (tail) ---\n${logTail}`, options);
  }
}

export class InvalidOptionsError extends HarnessError {
  constructor(message: string) {
    super("HARNESS_INVALID_OPTIONS", message);
  }
}
