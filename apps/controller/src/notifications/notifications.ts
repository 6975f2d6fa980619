// Notifications as the controller runs them: the webhook notifier subscribed
// to the controller's events, and the certificate-expiry watch that feeds it.
import { access } from "node:fs/promises";
import { join } from "node:path";
import type { Catalog } from "@pwdr/catalog";
import type { Logger } from "@pwdr/logging";
import { CertificateExpiryWatch } from "./certificate-expiry.js";
import type { ControllerEvents } from "./controller-events.js";
import { loadNotificationConfig, type NotificationConfig } from "./notification-config.js";
import { Notifier } from "./notifier.js";

export const NOTIFICATIONS_FILE = "notifications.json";

export interface RunningNotifications {
  notifier: Notifier;
  close(): Promise<void>;
}

/**
 * The configuration named by `--notifications`, else `<data-dir>/notifications.json`
 * when it exists; undefined when there is none (no webhooks).
 */
export async function findNotificationConfig(
  dataDir: string,
  file: string | undefined,
): Promise<NotificationConfig | undefined> {
  if (file) return loadNotificationConfig(file);
  const fallback = join(dataDir, NOTIFICATIONS_FILE);
  const present = await access(fallback).then(
    () => true,
    () => false,
  );
  return present ? loadNotificationConfig(fallback) : undefined;
}

export function startNotifications(deps: {
  config: NotificationConfig;
  events: ControllerEvents;
  db: Catalog;
  log: Logger;
}): RunningNotifications {
  const notifier = new Notifier({ config: deps.config, log: deps.log });
  notifier.subscribe(deps.events);
  const certificates = new CertificateExpiryWatch({
    db: deps.db,
    events: deps.events,
    log: deps.log,
    warningMs: deps.config.certificateWarningMs,
  });
  certificates.start();
  deps.log.info("notifications on", {
    webhooks: deps.config.webhooks.map((w) => ({ name: w.name, format: w.format, origin: w.url.origin })),
  });
  return {
    notifier,
    async close() {
      await certificates.close();
      await notifier.close();
    },
  };
}
