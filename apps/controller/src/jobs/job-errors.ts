// Why an operator's job request was refused; the API maps each to its error code.

export class JobTargetError extends Error {
  constructor(
    readonly reason: "unknown_host" | "decommissioned" | "unknown_recovery_point" | "unusable_recovery_point",
    message: string,
  ) {
    super(message);
  }
}

export class InvalidJobSpecError extends Error {
  constructor(readonly problems: { path: string; message: string }[]) {
    super("the job spec is not valid for its kind");
  }
}

/** The Idempotency-Key was used before for a different request. */
export class IdempotencyConflictError extends Error {}

export class JobNotFoundError extends Error {
  constructor(readonly jobId: string) {
    super(`no job with id "${jobId}"`);
  }
}

/** The job finished already; there is nothing to cancel. */
export class JobFinishedError extends Error {}
