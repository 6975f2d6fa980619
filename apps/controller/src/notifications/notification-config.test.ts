import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { describe, expect, it } from "vitest";
import { EVENT_TYPES } from "./controller-events.js";
import {
  DEFAULT_RETRY,
  loadNotificationConfig,
  NotificationConfigError,
  resolveNotificationConfig,
} from "./notification-config.js";
import { findNotificationConfig, NOTIFICATIONS_FILE } from "./notifications.js";

async function problemsOf(input: unknown): Promise<string[]> {
  try {
    await resolveNotificationConfig(input, "notifications.json");
  } catch (err) {
    if (err instanceof NotificationConfigError) return err.problems;
    throw err;
  }
  throw new Error("the configuration was accepted");
}

describe("notifications configuration", () => {
  it("fills in defaults: JSON format, every event, 10 s time-out, retries, 14 days of certificate warning", async () => {
    const config = await resolveNotificationConfig(
      { webhooks: [{ name: "ops", url: "https://hooks.example/pwdr" }] },
      "test",
    );
    expect(config.webhooks[0]).toMatchObject({ name: "ops", format: "json", timeoutMs: 10_000 });
    expect(config.webhooks[0]?.url.href).toBe("https://hooks.example/pwdr");
    expect([...(config.webhooks[0]?.events ?? [])]).toEqual([...EVENT_TYPES]);
    expect(config.retry).toEqual(DEFAULT_RETRY);
    expect(config.certificateWarningMs).toBe(14 * 86_400_000);
  });

  it("names every problem with its place in the file", async () => {
    const problems = await problemsOf({
      webhooks: [
        { name: "ops", url: "ftp://x", events: ["job.exploded"], colour: "red" },
        { name: "ops", url: "https://x", secretHeader: { name: "X-Key", value: "a", valueFile: "/b" } },
      ],
    });
    expect(problems.some((p) => p.startsWith("/webhooks/0/url"))).toBe(true);
    expect(problems.some((p) => p.startsWith("/webhooks/0/events/0"))).toBe(true);
    expect(problems.some((p) => p.startsWith("/webhooks/0") && p.includes("colour"))).toBe(true);
    const more = await problemsOf({
      webhooks: [
        { name: "ops", url: "https://x" },
        { name: "ops", url: "https://x", secretHeader: { name: "X-Key", value: "a", valueFile: "/b" } },
      ],
      retry: { attempts: 3, initialDelayMs: 5_000, maxDelayMs: 1_000 },
    });
    expect(more).toEqual([
      '/webhooks/1/name: "ops" is used twice',
      "/webhooks/1/secretHeader: give exactly one of value and valueFile",
      "/retry: initialDelayMs is longer than maxDelayMs",
    ]);
  });

  it("reads the secret header's value from its file, and says which file it cannot read", async () => {
    const dir = await makeTempDir("pwdr-notify-config-");
    const secretFile = join(dir, "secret");
    await writeFile(secretFile, "from-a-file\n", { mode: 0o600 });
    const webhook = (valueFile: string) => ({
      webhooks: [{ name: "ops", url: "https://x", secretHeader: { name: "X-Key", valueFile } }],
    });
    const config = await resolveNotificationConfig(webhook(secretFile), "test");
    expect(config.webhooks[0]?.secretHeader).toEqual({ name: "X-Key", value: "from-a-file" });
    const missing = join(dir, "missing");
    await expect(resolveNotificationConfig(webhook(missing), "test")).rejects.toThrow(
      `/webhooks/0/secretHeader/valueFile: cannot read ${missing}`,
    );
  });

  it("uses <data-dir>/notifications.json when no file is named, and nothing when it is absent", async () => {
    const dir = await makeTempDir("pwdr-notify-dir-");
    expect(await findNotificationConfig(dir, undefined)).toBeUndefined();
    await writeFile(join(dir, NOTIFICATIONS_FILE), "{ not json");
    await expect(findNotificationConfig(dir, undefined)).rejects.toThrow(
      /notifications\.json is not valid: not JSON/,
    );
    await writeFile(
      join(dir, NOTIFICATIONS_FILE),
      JSON.stringify({ webhooks: [{ name: "a", url: "http://127.0.0.1:1/" }] }),
    );
    expect((await findNotificationConfig(dir, undefined))?.webhooks.map((w) => w.name)).toEqual(["a"]);
    await expect(loadNotificationConfig(join(dir, "elsewhere.json"))).rejects.toBeInstanceOf(
      NotificationConfigError,
    );
  });
});
