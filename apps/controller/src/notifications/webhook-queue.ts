import type { Logger } from "@pwdr/logging";
import type { ControllerEvent } from "./controller-events.js";
import type { RetrySettings, WebhookTarget } from "./notification-config.js";
import { postWebhook } from "./webhook-post.js";

export interface WebhookStats {
  name: string;
  delivered: number;
  /** Given up on: refused by the receiver, or out of attempts. */
  failed: number;
  /** Dropped unsent because the queue was full. */
  dropped: number;
  pending: number;
}

interface Delivery {
  event: ControllerEvent;
  body: unknown;
  /** Attempts made so far. */
  attempts: number;
}

export interface WebhookQueueOptions {
  target: WebhookTarget;
  retry: RetrySettings;
  limit: number;
  log: Logger;
  /** In [0, 1): the jitter of retry delays (tests make it fixed). */
  random?: () => number;
}

/**
 * The deliveries owed to one webhook, sent one at a time in order. A delivery
 * that fails with a retryable answer is tried again after an exponential
 * delay with jitter (or the receiver's Retry-After, if longer), up to
 * `retry.attempts` times. Nothing here waits on the caller: `push` only
 * queues. The queue lives in memory; it outlasts a receiver's outage, not a
 * controller restart.
 */
export class WebhookQueue {
  readonly #options: WebhookQueueOptions;
  readonly #items: Delivery[] = [];
  readonly #random: () => number;
  #draining: Promise<void> | undefined;
  #sleep: { timer: NodeJS.Timeout; wake(): void } | undefined;
  #closed = false;
  #stats = { delivered: 0, failed: 0, dropped: 0 };

  constructor(options: WebhookQueueOptions) {
    this.#options = options;
    this.#random = options.random ?? Math.random;
  }

  get name(): string {
    return this.#options.target.name;
  }

  push(event: ControllerEvent, body: unknown): void {
    if (this.#closed) return;
    if (this.#items.length >= this.#options.limit) this.#dropOldest();
    this.#items.push({ event, body, attempts: 0 });
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = undefined;
    });
  }

  stats(): WebhookStats {
    return { name: this.name, ...this.#stats, pending: this.#items.length };
  }

  /** Resolves once every queued delivery was sent or given up on. */
  async idle(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  /** Stops sending; what is still queued is dropped (and logged). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sleep) {
      clearTimeout(this.#sleep.timer);
      this.#sleep.wake();
    }
    await this.#draining;
    if (this.#items.length > 0)
      this.#options.log.warn("webhook deliveries dropped at shutdown", {
        webhook: this.name,
        count: this.#items.length,
      });
  }

  #dropOldest(): void {
    // The head may be in flight; the one after it is the oldest that is only waiting.
    const [dropped] = this.#items.splice(this.#items.length > 1 ? 1 : 0, 1);
    this.#stats.dropped++;
    this.#options.log.warn("webhook queue full; oldest waiting delivery dropped", {
      webhook: this.name,
      eventId: dropped?.event.id,
      limit: this.#options.limit,
    });
  }

  async #drain(): Promise<void> {
    while (!this.#closed) {
      const item = this.#items[0];
      if (!item) return;
      item.attempts++;
      const outcome = await postWebhook(this.#options.target, item.body);
      if (outcome.delivered) {
        this.#done(item, "delivered");
        continue;
      }
      const { attempts } = this.#options.retry;
      const fields = {
        webhook: this.name,
        origin: this.#options.target.url.origin,
        event: item.event.type,
        eventId: item.event.id,
        attempt: item.attempts,
        reason: outcome.reason,
      };
      if (!outcome.retryable || item.attempts >= attempts) {
        this.#options.log.error(
          outcome.retryable
            ? `webhook delivery given up after ${attempts} attempts`
            : "webhook refused the delivery; not retried (fix the webhook's URL, secret header or receiver)",
          fields,
        );
        this.#done(item, "failed");
        continue;
      }
      const delayMs = this.#delay(item.attempts, outcome.retryAfterMs);
      this.#options.log.warn("webhook delivery failed; retrying", { ...fields, retryInMs: delayMs });
      await this.#wait(delayMs);
    }
  }

  #done(item: Delivery, how: "delivered" | "failed"): void {
    if (this.#items[0] === item) this.#items.shift();
    this.#stats[how]++;
  }

  /** Exponential from initialDelayMs, capped at maxDelayMs, between half and all of it (jitter). */
  #delay(attemptsMade: number, retryAfterMs: number | undefined): number {
    const { initialDelayMs, maxDelayMs } = this.#options.retry;
    const base = Math.min(maxDelayMs, initialDelayMs * 2 ** (attemptsMade - 1));
    const jittered = Math.round(base / 2 + (base / 2) * this.#random());
    return Math.min(maxDelayMs, Math.max(jittered, retryAfterMs ?? 0));
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.#sleep = undefined;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      timer.unref();
      this.#sleep = { timer, wake };
    });
  }
}
