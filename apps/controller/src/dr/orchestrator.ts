// The DR orchestrator: advances every active run, on a timer and whenever a
// job finishes or a run starts. Passes and cancels run one at a time, so a
// cancel never races a pass that is starting the next step.
import type { Catalog, DrRun } from "@pwdr/catalog";
import type { Logger } from "@pwdr/logging";
import type { SessionRegistry } from "../session-registry.js";
import { ACTIVE_RUN_STATES } from "./assessment.js";
import { DrNotFoundError, DrRunFinishedError } from "./dr-errors.js";
import { type DrRunChange, RunAdvance } from "./run-advance.js";

export const DEFAULT_DR_INTERVAL_MS = 2_000;

export interface DrOrchestratorOptions {
  db: Catalog;
  sessions: SessionRegistry;
  log: Logger;
  /** Called after a step's job was created (the scheduler's dispatchSoon). */
  onJobCreated(): void;
  /** How often active runs are looked at even when nothing woke the orchestrator (time-outs). */
  intervalMs?: number;
  now?: () => Date;
  /** Called once when a run starts and once when it ends (notifications). */
  onRunEvent?: (change: DrRunChange) => void;
}

export class DrOrchestrator {
  readonly #options: DrOrchestratorOptions;
  #queue: Promise<unknown> = Promise.resolve();
  #passQueued = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = true;

  constructor(options: DrOrchestratorOptions) {
    this.#options = options;
  }

  /** Starts the timer and a first pass: runs a stopped controller left active resume here. */
  start(): void {
    this.#stopped = false;
    this.#timer = setInterval(() => this.wake(), this.#options.intervalMs ?? DEFAULT_DR_INTERVAL_MS);
    this.wake();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#queue;
  }

  /** Advances the active runs soon; calls while a pass waits to start coalesce. */
  wake(): void {
    if (this.#stopped || this.#passQueued) return;
    this.#passQueued = true;
    void this.#serial(async () => {
      this.#passQueued = false;
      await this.#pass();
    });
  }

  /** Resolves when the passes asked for so far are done (tests, API). */
  idle(): Promise<void> {
    return this.#queue.then(() => undefined);
  }

  /**
   * Cancels a running run: pending steps will not start, the running steps'
   * jobs are asked to stop; the run is cancelled once they ended.
   */
  cancel(runId: string, actor: string): Promise<DrRun> {
    return this.#serial(async () => {
      const { db } = this.#options;
      const run = await db.drRun.findUnique({ where: { id: runId } });
      if (!run) throw new DrNotFoundError("DR run", runId);
      const { count } = await db.drRun.updateMany({
        where: { id: runId, state: "running" },
        data: { state: "cancelling", reason: `cancelled by ${actor}` },
      });
      if (count === 0) throw new DrRunFinishedError(runId, run.state);
      const advance = await RunAdvance.load(this.#deps(), runId);
      await advance.requestCancel(actor);
      await (await RunAdvance.load(this.#deps(), runId)).advance();
      return db.drRun.findUniqueOrThrow({ where: { id: runId } });
    });
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  #deps() {
    const { db, sessions, log, onJobCreated, onRunEvent } = this.#options;
    return {
      db,
      sessions,
      log,
      onJobCreated,
      now: this.#options.now ?? (() => new Date()),
      ...(onRunEvent ? { onRunEvent } : {}),
    };
  }

  async #pass(): Promise<void> {
    const { db, log } = this.#options;
    try {
      const runs = await db.drRun.findMany({
        where: { state: { in: ACTIVE_RUN_STATES } },
        orderBy: { createdAt: "asc" },
        select: { id: true },
      });
      for (const { id } of runs) {
        if (this.#stopped) return;
        try {
          await (await RunAdvance.load(this.#deps(), id)).advance();
        } catch (err) {
          log.error("advancing a DR run failed", { runId: id, error: String(err) });
        }
      }
    } catch (err) {
      log.error("DR orchestrator pass failed", { error: String(err) });
    }
  }
}
