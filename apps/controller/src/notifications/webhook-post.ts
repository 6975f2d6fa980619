import type { WebhookTarget } from "./notification-config.js";

/** What one POST to a webhook came to. */
export type PostOutcome =
  | { delivered: true; status: number }
  | {
      delivered: false;
      /** Network errors, time-outs, 408, 429 and 5xx are worth another try; other answers are not. */
      retryable: boolean;
      /** For people and logs: never the URL's path or a header value. */
      reason: string;
      /** The receiver's Retry-After, when it sent one. */
      retryAfterMs?: number;
    };

const RETRYABLE_STATUS = (status: number) => status === 408 || status === 429 || status >= 500;

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function describe(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError" || e.name === "AbortError") return `no answer within ${timeoutMs} ms`;
  // fetch wraps the socket error; its code (ECONNREFUSED, ENOTFOUND…) is what an operator can act on.
  return e.cause?.code ?? e.cause?.message ?? String(err);
}

/**
 * POSTs one JSON document. Redirects are not followed: one could carry the
 * secret header to another server.
 */
export async function postWebhook(target: WebhookTarget, body: unknown): Promise<PostOutcome> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "pwdr-controller",
  };
  if (target.secretHeader) headers[target.secretHeader.name] = target.secretHeader.value;
  let response: Response;
  try {
    response = await fetch(target.url, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      redirect: "manual",
      signal: AbortSignal.timeout(target.timeoutMs),
    });
  } catch (err) {
    return { delivered: false, retryable: true, reason: describe(err, target.timeoutMs) };
  }
  // The body is not needed; reading it frees the connection for the next delivery.
  await response.arrayBuffer().catch(() => undefined);
  if (response.status >= 200 && response.status < 300) return { delivered: true, status: response.status };
  const after = retryAfterMs(response.headers.get("retry-after"));
  return {
    delivered: false,
    retryable: RETRYABLE_STATUS(response.status),
    reason: `HTTP ${response.status}${response.status >= 300 && response.status < 400 ? " (redirects are not followed)" : ""}`,
    ...(after !== undefined ? { retryAfterMs: after } : {}),
  };
}
