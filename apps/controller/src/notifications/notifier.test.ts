import type { Logger } from "@pwdr/logging";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ControllerEvent, ControllerEvents, type JobEvent } from "./controller-events.js";
import { resolveNotificationConfig } from "./notification-config.js";
import { Notifier } from "./notifier.js";
import { startWebhookReceiver, type WebhookReceiver } from "./test-support/webhook-receiver.js";

const SECRET = "s3cret-header-value-0f9e8d";
// A Slack-style URL: the path is a credential too, so it must not be logged either.
const SLACK_PATH = "/services/T000/B000/XXXXsecretpath";

function capturingLogger(lines: string[]): Logger {
  const write = (msg: string, fields?: Record<string, unknown>) => {
    lines.push(JSON.stringify({ msg, ...fields }));
  };
  return { debug: write, info: write, warn: write, error: write };
}

let runs = 0;
function failedJob(): JobEvent {
  const runId = `run-${++runs}`;
  return {
    type: "job.failed",
    id: `job.failed/${runId}`,
    at: new Date("2026-11-26T02:16:40.000Z"),
    host: { id: "h-1", name: "pi-north-01" },
    job: { id: "job-1", kind: "backup", attempt: 3, createdBy: "system:scheduler" },
    runId,
    error: { code: "pg_dump_failed", message: "connection refused" },
  };
}

const rpoBreach: ControllerEvent = {
  type: "rpo.breached",
  id: "rpo.breached/h-1/2026-11-26T04:00:00.000Z",
  at: new Date("2026-11-26T04:00:05.000Z"),
  host: { id: "h-1", name: "pi-north-01" },
  rpo: "26h",
  lastBackupAt: new Date("2026-11-25T02:00:00.000Z"),
  breachedSince: new Date("2026-11-26T04:00:00.000Z"),
};

describe("webhook notifier against a local HTTP receiver", () => {
  let receiver: WebhookReceiver;
  let logLines: string[];
  let notifier: Notifier;
  let events: ControllerEvents;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
  });

  afterAll(async () => {
    await receiver?.close();
  });

  afterEach(async () => {
    await notifier?.close();
  });

  async function start(webhooks: object[], retry = { attempts: 4, initialDelayMs: 5, maxDelayMs: 20 }) {
    logLines = [];
    const log = capturingLogger(logLines);
    const config = await resolveNotificationConfig({ webhooks, retry }, "test");
    notifier = new Notifier({ config, log, source: "pwdr-controller@test" });
    events = new ControllerEvents(log);
    notifier.subscribe(events);
  }

  it("posts the generic JSON document: id, type, severity, time, summary and the event's fields", async () => {
    await start([{ name: "ops", url: receiver.url("/json") }]);
    const event = failedJob();
    events.publish(event);
    const [request] = await receiver.received("/json", 1);
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.body).toEqual({
      id: event.id,
      type: "job.failed",
      severity: "critical",
      at: "2026-11-26T02:16:40.000Z",
      source: "pwdr-controller@test",
      summary: "backup job on pi-north-01 failed (attempt 3): pg_dump_failed: connection refused",
      host: { id: "h-1", name: "pi-north-01" },
      job: { id: "job-1", kind: "backup", attempt: 3, createdBy: "system:scheduler" },
      runId: event.runId,
      error: { code: "pg_dump_failed", message: "connection refused" },
    });
    await notifier.idle();
    expect(notifier.stats()).toEqual([{ name: "ops", delivered: 1, failed: 0, dropped: 0, pending: 0 }]);
  });

  it("posts a Slack-compatible {text, blocks} message, escaping Slack markup", async () => {
    await start([{ name: "chat", url: receiver.url(SLACK_PATH), format: "slack" }]);
    const event = { ...failedJob(), error: { code: "x", message: "<!channel> & friends" } };
    events.publish(event);
    const [request] = (await receiver.received(SLACK_PATH, 1)).slice(-1);
    const body = request?.body as {
      text: string;
      blocks: { type: string; text?: { type: string; text: string } }[];
    };
    expect(Object.keys(body).sort()).toEqual(["blocks", "text"]);
    expect(body.text).toBe(
      ":rotating_light: [PWDR] backup job on pi-north-01 failed (attempt 3): x: &lt;!channel&gt; &amp; friends",
    );
    expect(body.blocks.map((b) => b.type)).toEqual(["section", "context"]);
    expect(body.blocks[0]?.text).toEqual({
      type: "mrkdwn",
      text: ":rotating_light: *job.failed*\nbackup job on pi-north-01 failed (attempt 3): x: &lt;!channel&gt; &amp; friends",
    });
  });

  it("retries after the receiver answers 500 twice, sending the same document each time", async () => {
    await start([{ name: "ops", url: receiver.url("/flaky") }]);
    receiver.answer("/flaky", 500, 503);
    const event = failedJob();
    events.publish(event);
    const requests = await receiver.received("/flaky", 3);
    await notifier.idle();
    expect(requests.map((r) => r.body.id)).toEqual([event.id, event.id, event.id]);
    expect(notifier.stats()[0]).toMatchObject({ delivered: 1, failed: 0 });
    const retries = logLines.filter((l) => l.includes("retrying")).map((l) => JSON.parse(l));
    expect(retries.map((r) => [r.attempt, r.reason])).toEqual([
      [1, "HTTP 500"],
      [2, "HTTP 503"],
    ]);
  });

  it("retries 429 (Too Many Requests) and gives up after the configured attempts", async () => {
    await start([{ name: "ops", url: receiver.url("/busy") }], {
      attempts: 3,
      initialDelayMs: 1,
      maxDelayMs: 5,
    });
    receiver.answer("/busy", 429, 500, 500, 500);
    events.publish(failedJob());
    await receiver.received("/busy", 3);
    await notifier.idle();
    expect(receiver.requests.filter((r) => r.path === "/busy")).toHaveLength(3);
    expect(notifier.stats()[0]).toMatchObject({ delivered: 0, failed: 1, pending: 0 });
    expect(logLines.some((l) => l.includes("given up after 3 attempts"))).toBe(true);
  });

  it("does not retry a 400: the receiver refused the document", async () => {
    await start([{ name: "ops", url: receiver.url("/refuses") }]);
    receiver.answer("/refuses", 400);
    const first = failedJob();
    const second = failedJob();
    events.publish(first);
    events.publish(second);
    // Deliveries to one webhook go in order: once the second arrived, the first was not retried.
    const requests = await receiver.received("/refuses", 2);
    await notifier.idle();
    expect(requests.map((r) => r.body.id)).toEqual([first.id, second.id]);
    expect(notifier.stats()[0]).toMatchObject({ delivered: 1, failed: 1 });
    expect(logLines.some((l) => l.includes("not retried") && l.includes("HTTP 400"))).toBe(true);
  });

  it("retries when nothing listens, then gives up", async () => {
    const closed = await startWebhookReceiver();
    const url = closed.url("/gone");
    await closed.close();
    await start([{ name: "ops", url }], { attempts: 2, initialDelayMs: 1, maxDelayMs: 2 });
    events.publish(failedJob());
    await notifier.idle();
    expect(notifier.stats()[0]).toMatchObject({ delivered: 0, failed: 1 });
    expect(logLines.some((l) => l.includes("retrying") && l.includes("ECONNREFUSED"))).toBe(true);
  });

  it("sends the secret header but never logs it or the webhook's URL path", async () => {
    await start([
      {
        name: "chat",
        url: receiver.url(SLACK_PATH),
        format: "slack",
        secretHeader: { name: "X-PWDR-Secret", value: SECRET },
      },
    ]);
    receiver.answer(SLACK_PATH, 500, 400);
    const before = receiver.requests.length;
    const earlier = receiver.requests.filter((r) => r.path === SLACK_PATH).length;
    events.publish(failedJob());
    await receiver.received(SLACK_PATH, earlier + 2);
    await notifier.idle();
    const sent = receiver.requests.slice(before);
    expect(sent.map((r) => r.headers["x-pwdr-secret"])).toEqual([SECRET, SECRET]);
    expect(logLines.length).toBeGreaterThan(0);
    for (const line of logLines) {
      expect(line).not.toContain(SECRET);
      expect(line).not.toContain("XXXXsecretpath");
    }
  });

  it("sends each webhook only the events it asked for, and an occurrence once", async () => {
    await start([
      { name: "rpo-only", url: receiver.url("/rpo"), events: ["rpo.breached"] },
      { name: "all", url: receiver.url("/all") },
    ]);
    const job = failedJob();
    events.publish(job);
    events.publish(rpoBreach);
    events.publish(rpoBreach);
    events.publish(job);
    await notifier.idle();
    expect(receiver.requests.filter((r) => r.path === "/rpo").map((r) => r.body.type)).toEqual([
      "rpo.breached",
    ]);
    expect(receiver.requests.filter((r) => r.path === "/all").map((r) => r.body.id)).toEqual([
      job.id,
      rpoBreach.id,
    ]);
  });
});
