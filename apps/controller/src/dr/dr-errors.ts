// Typed failures of DR requests; the API maps each to one status.

/** A host, recovery point or run the request names does not exist. */
export class DrNotFoundError extends Error {
  constructor(
    readonly kind: "host" | "recovery point" | "DR run",
    readonly id: string,
    detail = "",
  ) {
    super(`no ${kind} "${id}"${detail}`);
    this.name = "DrNotFoundError";
  }
}

/**
 * The request cannot be planned: `invalid` (a bad step graph or step params:
 * fix the request) or `unusable-point` (no usable recovery point: the catalog's state).
 */
export class DrPlanError extends Error {
  constructor(
    message: string,
    readonly reason: "invalid" | "unusable-point" = "invalid",
  ) {
    super(message);
    this.name = "DrPlanError";
  }
}

/** The assessment found reasons not to start; each problem names what to fix. */
export class DrRefusedError extends Error {
  constructor(readonly problems: string[]) {
    super(`the DR run was refused: ${problems.join("; ")}`);
    this.name = "DrRefusedError";
  }
}

/** The run is over (or being cancelled) already. */
export class DrRunFinishedError extends Error {
  constructor(runId: string, state: string) {
    super(`DR run ${runId} is ${state} already; nothing to cancel`);
    this.name = "DrRunFinishedError";
  }
}
