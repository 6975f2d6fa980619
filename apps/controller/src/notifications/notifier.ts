import { hostname } from "node:os";
import type { Logger } from "@pwdr/logging";
import type { ControllerEvent, ControllerEvents } from "./controller-events.js";
import type { NotificationConfig } from "./notification-config.js";
import { jsonPayload, slackPayload } from "./payloads.js";
import { WebhookQueue, type WebhookStats } from "./webhook-queue.js";

export interface NotifierOptions {
  config: NotificationConfig;
  log: Logger;
  /** Names this controller in payloads (default "pwdr-controller@<hostname>"). */
  source?: string;
  /** In [0, 1): the jitter of retry delays. */
  random?: () => number;
}

// Event ids remembered to drop an occurrence published twice (a sweep racing another).
const REMEMBERED_EVENTS = 10_000;

/** Delivers controller events to the configured webhooks, each through its own queue. */
export class Notifier {
  readonly #queues: { queue: WebhookQueue; config: NotificationConfig["webhooks"][number] }[];
  readonly #source: string;
  readonly #seen = new Set<string>();
  #unsubscribe: (() => void) | undefined;

  constructor(options: NotifierOptions) {
    this.#source = options.source ?? `pwdr-controller@${hostname()}`;
    this.#queues = options.config.webhooks.map((target) => ({
      config: target,
      queue: new WebhookQueue({
        target,
        retry: options.config.retry,
        limit: options.config.queueLimit,
        log: options.log,
        ...(options.random ? { random: options.random } : {}),
      }),
    }));
  }

  /** Starts delivering what `events` publishes. */
  subscribe(events: ControllerEvents): void {
    this.#unsubscribe = events.subscribe((event) => this.notify(event));
  }

  /** Queues the event for every webhook that wants it; returns at once. */
  notify(event: ControllerEvent): void {
    if (!this.#remember(event.id)) return;
    for (const { config, queue } of this.#queues) {
      if (!config.events.has(event.type)) continue;
      const body =
        config.format === "slack" ? slackPayload(event, this.#source) : jsonPayload(event, this.#source);
      queue.push(event, body);
    }
  }

  stats(): WebhookStats[] {
    return this.#queues.map(({ queue }) => queue.stats());
  }

  /** Resolves once every queued delivery was sent or given up on (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all(this.#queues.map(({ queue }) => queue.idle()));
  }

  async close(): Promise<void> {
    this.#unsubscribe?.();
    await Promise.all(this.#queues.map(({ queue }) => queue.close()));
  }

  #remember(id: string): boolean {
    if (this.#seen.has(id)) return false;
    this.#seen.add(id);
    if (this.#seen.size > REMEMBERED_EVENTS) {
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    return true;
  }
}
