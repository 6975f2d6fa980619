// One pass over one DR run: settle running steps from their jobs, start the
// steps whose dependencies are met, finish the run when nothing is left.
// Everything it decides is in the catalog, so a restarted controller resumes
// where the last pass left off.
import type { Catalog, DrRun, DrStep, Job, Prisma } from "@pwdr/catalog";
import type { Logger } from "@pwdr/logging";
import { cancelJob } from "../jobs/cancel-job.js";
import { isFinal } from "../jobs/run-states.js";
import type { SessionRegistry } from "../session-registry.js";
import { runControllerStep } from "./controller-steps.js";
import { dependsOnOf, RunSteps } from "./run-steps.js";
import { DR_ACTOR, ensureStepJob, jobOutput } from "./step-job-link.js";
import { CONTROLLER_ACTIONS } from "./step-jobs.js";

export interface AdvanceDeps {
  db: Catalog;
  sessions: SessionRegistry;
  log: Logger;
  /** A job was created: dispatch it now rather than at the next tick. */
  onJobCreated(): void;
  now(): Date;
  /** Called once when a run's first step starts and once when the run ends (notifications). */
  onRunEvent?: (change: DrRunChange) => void;
}

export interface DrRunChange {
  phase: "started" | "finished";
  /** The run as it is after the change. */
  run: DrRun;
}

type StepOutcome =
  | { ok: true; output: Prisma.InputJsonObject }
  | { ok: false; error: string; output?: Prisma.InputJsonObject };

export class RunAdvance {
  #aborted: string | undefined;

  constructor(
    private readonly deps: AdvanceDeps,
    private readonly steps: RunSteps,
  ) {}

  static async load(deps: AdvanceDeps, runId: string): Promise<RunAdvance> {
    const run = await deps.db.drRun.findUniqueOrThrow({ where: { id: runId } });
    const steps = await deps.db.drStep.findMany({ where: { runId }, orderBy: { position: "asc" } });
    return new RunAdvance(deps, new RunSteps(deps.db, run, steps));
  }

  get run(): DrRun {
    return this.steps.run;
  }

  async advance(): Promise<void> {
    if (this.run.state === "cancelling") return this.#settleCancel();
    if (this.run.state !== "running") return;
    for (const step of this.steps.inState("running")) await this.#check(step);
    if (this.#aborted === undefined) await this.#startReady();
    if (this.#aborted !== undefined) return this.#abort(this.#aborted);
    if (this.steps.done()) await this.#finish();
  }

  /** Asks the running steps' jobs to stop and the pending steps not to start (cancel). */
  async requestCancel(actor: string): Promise<void> {
    for (const step of this.steps.inState("pending")) {
      await this.steps.update(step, { state: "cancelled", finishedAt: this.deps.now() });
    }
    for (const step of this.steps.inState("running")) await this.#cancelJobOf(step, actor);
  }

  async #check(step: DrStep): Promise<void> {
    if (CONTROLLER_ACTIONS.has(step.action as never)) {
      // Only a controller stopped in the middle leaves one running: run it again (they are idempotent).
      return this.#conclude(step, await this.#runOnController(step));
    }
    const job = await this.#jobOf(step);
    if (!isFinal(job.state)) {
      if (this.#timedOut(step, job)) {
        await this.#cancelJobOf(step, `${DR_ACTOR} (step timed out)`);
        return this.#conclude(step, { ok: false, error: `timed out after ${step.timeoutMs / 1000} s` });
      }
      return;
    }
    const output = await jobOutput(this.deps.db, job);
    if (job.state === "succeeded") return this.#conclude(step, { ok: true, output });
    const why = job.reason ? `: ${job.reason}` : "";
    return this.#conclude(step, { ok: false, error: `job ${job.id} ${job.state}${why}`, output });
  }

  // An attempt counts from its job's creation: a job waiting for an offline host is waiting too.
  #timedOut(step: DrStep, job: Job): boolean {
    return this.deps.now().getTime() - job.createdAt.getTime() > step.timeoutMs;
  }

  async #jobOf(step: DrStep): Promise<Job> {
    const { job, created } = await ensureStepJob(this.deps.db, step, this.deps.now());
    if (step.jobId !== job.id) await this.steps.update(step, { jobId: job.id });
    if (created) this.deps.onJobCreated();
    return job;
  }

  async #conclude(step: DrStep, outcome: StepOutcome): Promise<void> {
    const now = this.deps.now();
    if (outcome.ok) {
      await this.steps.update(step, {
        state: "succeeded",
        output: outcome.output,
        error: null,
        finishedAt: now,
      });
      return;
    }
    const output = outcome.output ? { output: outcome.output } : {};
    if (step.attempt < step.maxAttempts) {
      this.deps.log.warn("DR step attempt failed; retrying", {
        runId: step.runId,
        step: step.name,
        error: outcome.error,
      });
      await this.steps.update(step, {
        attempt: step.attempt + 1,
        jobId: null,
        error: outcome.error,
        ...output,
      });
      return this.#begin(this.steps.get(step.id));
    }
    await this.steps.update(step, { state: "failed", error: outcome.error, finishedAt: now, ...output });
    this.deps.log.warn("DR step failed", { runId: step.runId, step: step.name, error: outcome.error });
    if (step.onFailure === "abort") this.#aborted = `step ${step.name} failed: ${outcome.error}`;
  }

  async #startReady(): Promise<void> {
    // The first claim of a step is the run's start: a claim succeeds once, even across restarts.
    let starting = this.steps.all().every((s) => s.state === "pending");
    for (const step of this.steps.all()) {
      if (this.#aborted !== undefined) return;
      if (step.state !== "pending") continue;
      const deps = dependsOnOf(step).map((p) => this.steps.at(p));
      // A failed step whose onFailure is continue lets its dependants go on.
      if (deps.some((d) => !d || d.state === "skipped" || d.state === "cancelled")) {
        await this.steps.update(step, {
          state: "skipped",
          finishedAt: this.deps.now(),
          error: "a step it depends on did not run",
        });
        continue;
      }
      if (!deps.every((d) => d?.state === "succeeded" || d?.state === "failed")) continue;
      const claimed = await this.steps.update(
        step,
        { state: "running", attempt: 1, startedAt: this.deps.now() },
        "pending",
      );
      if (claimed && starting) {
        starting = false;
        this.deps.onRunEvent?.({ phase: "started", run: this.run });
      }
      if (claimed) await this.#begin(this.steps.get(step.id));
    }
  }

  async #begin(step: DrStep): Promise<void> {
    if (CONTROLLER_ACTIONS.has(step.action as never)) {
      return this.#conclude(step, await this.#runOnController(step));
    }
    await this.#jobOf(step);
  }

  async #runOnController(step: DrStep): Promise<StepOutcome> {
    try {
      return await runControllerStep(this.deps, this.run, step);
    } catch (err) {
      this.deps.log.error("DR controller step failed", {
        runId: step.runId,
        step: step.name,
        error: String(err),
      });
      return { ok: false, error: (err as Error).message };
    }
  }

  async #cancelJobOf(step: DrStep, actor: string): Promise<void> {
    if (!step.jobId) return;
    try {
      await cancelJob({ db: this.deps.db, sessions: this.deps.sessions }, step.jobId, actor, this.deps.now());
    } catch {
      // Finished or gone meanwhile: its result decides the step.
    }
  }

  async #abort(reason: string): Promise<void> {
    const now = this.deps.now();
    for (const step of this.steps.inState("pending")) {
      await this.steps.update(step, { state: "skipped", finishedAt: now, error: "the run was aborted" });
    }
    for (const step of this.steps.inState("running")) {
      await this.#cancelJobOf(step, `${DR_ACTOR} (run aborted)`);
      await this.steps.update(step, { state: "cancelled", finishedAt: now, error: "the run was aborted" });
    }
    await this.#finishAs("failed", reason);
  }

  /** Cancelling: running steps end with their jobs (or their time-out); then the run is cancelled. */
  async #settleCancel(): Promise<void> {
    const now = this.deps.now();
    for (const step of this.steps.inState("running")) {
      const job = step.jobId ? await this.deps.db.job.findUnique({ where: { id: step.jobId } }) : null;
      if (job && !isFinal(job.state) && !this.#timedOut(step, job)) continue;
      const succeeded = job?.state === "succeeded";
      await this.steps.update(step, {
        state: succeeded ? "succeeded" : "cancelled",
        finishedAt: now,
        ...(job ? { output: await jobOutput(this.deps.db, job) } : {}),
      });
    }
    for (const step of this.steps.inState("pending"))
      await this.steps.update(step, { state: "cancelled", finishedAt: now });
    if (this.steps.done()) await this.#finishAs("cancelled", this.run.reason ?? "cancelled");
  }

  async #finish(): Promise<void> {
    const failed = this.steps.inState("failed").map((s) => s.name);
    const reason =
      failed.length > 0 ? `finished; failed steps allowed to continue: ${failed.join(", ")}` : null;
    await this.#finishAs("succeeded", reason);
  }

  async #finishAs(state: "succeeded" | "failed" | "cancelled", reason: string | null): Promise<void> {
    const finishedAt = this.deps.now();
    const startedAt = this.run.startedAt ?? this.run.createdAt;
    // Recovered means healthy, or for a sandbox drill, restored and checked.
    const healthy = this.steps
      .all()
      .find((s) => (s.action === "verify-health" || s.action === "drill") && s.state === "succeeded");
    const rtoMs = (healthy?.finishedAt ?? finishedAt).getTime() - startedAt.getTime();
    const { count } = await this.deps.db.drRun.updateMany({
      where: { id: this.run.id, state: { in: ["running", "cancelling"] } },
      data: { state, reason, finishedAt, rtoMs },
    });
    this.deps.log.info("DR run finished", { runId: this.run.id, state, rtoMs, reason });
    if (count > 0)
      this.deps.onRunEvent?.({ phase: "finished", run: { ...this.run, state, reason, finishedAt, rtoMs } });
  }
}
