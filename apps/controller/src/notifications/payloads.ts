// What a webhook receives: the generic JSON document, or a Slack-compatible
// message ({text, blocks}) made from the same summary.
import type { ControllerEvent, EventType } from "./controller-events.js";

export type Severity = "critical" | "warning" | "info";

const SEVERITY: Record<EventType, Severity> = {
  "job.failed": "critical",
  "job.partial": "warning",
  "rpo.breached": "critical",
  "rpo.cleared": "info",
  "certificate.expiring": "warning",
  "dr.run.started": "info",
  "dr.run.finished": "info",
};

export function severityOf(event: ControllerEvent): Severity {
  if (event.type === "dr.run.finished" && event.run.state !== "succeeded") return "critical";
  return SEVERITY[event.type];
}

const hours = (ms: number) => `${Math.round(ms / 360_000) / 10} h`;
const minutes = (ms: number) => `${Math.round(ms / 6_000) / 10} min`;

/** One line for people: what happened, where. */
export function summaryOf(event: ControllerEvent): string {
  switch (event.type) {
    case "job.failed":
    case "job.partial": {
      const verb = event.type === "job.failed" ? "failed" : "was partial";
      const why = event.error ? `: ${event.error.code}: ${event.error.message}` : "";
      return `${event.job.kind} job on ${event.host.name} ${verb} (attempt ${event.job.attempt})${why}`;
    }
    case "rpo.breached": {
      const last = event.lastBackupAt
        ? `last complete backup ${event.lastBackupAt.toISOString()}`
        : "no backup yet";
      return `${event.host.name} missed its RPO${event.rpo ? ` of ${event.rpo}` : ""}: ${last}`;
    }
    case "rpo.cleared":
      return `${event.host.name} is within its RPO again`;
    case "certificate.expiring": {
      const left = event.notAfter.getTime() - event.at.getTime();
      return `agent certificate ${event.serial} of ${event.host.name} expires ${event.notAfter.toISOString()} (in ${hours(left)}); the agent has not renewed it`;
    }
    case "dr.run.started":
      return `DR ${event.run.kind} run ${event.run.id} started by ${event.run.createdBy}${hostsOf(event.hosts)}`;
    case "dr.run.finished": {
      const rto = event.run.rtoMs !== null ? `, RTO ${minutes(event.run.rtoMs)}` : "";
      const rpo = event.run.rpoMs !== null ? `, RPO ${minutes(event.run.rpoMs)}` : "";
      const why = event.run.reason ? `: ${event.run.reason}` : "";
      return `DR ${event.run.kind} run ${event.run.id} ${event.run.state}${hostsOf(event.hosts)}${rto}${rpo}${why}`;
    }
  }
}

function hostsOf(hosts: { name: string }[]): string {
  return hosts.length > 0 ? ` (${hosts.map((h) => h.name).join(", ")})` : "";
}

/** The fields of the event besides its id, type and time, dates as ISO strings. */
function detailsOf(event: ControllerEvent): Record<string, unknown> {
  const { id: _id, type: _type, at: _at, ...rest } = event;
  return JSON.parse(JSON.stringify(rest)) as Record<string, unknown>;
}

/** The generic payload: stable field names, one document per event. */
export function jsonPayload(event: ControllerEvent, source: string): Record<string, unknown> {
  return {
    id: event.id,
    type: event.type,
    severity: severityOf(event),
    at: event.at.toISOString(),
    source,
    summary: summaryOf(event),
    ...detailsOf(event),
  };
}

const EMOJI: Record<Severity, string> = {
  critical: ":rotating_light:",
  warning: ":warning:",
  info: ":information_source:",
};

// Slack reads &, < and > as markup (links, mentions); text from hosts and errors must not be.
const escapeSlack = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A Slack incoming-webhook message: `text` for notifications, blocks for the channel. */
export function slackPayload(event: ControllerEvent, source: string) {
  const severity = severityOf(event);
  const summary = escapeSlack(summaryOf(event));
  return {
    text: `${EMOJI[severity]} [PWDR] ${summary}`,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `${EMOJI[severity]} *${event.type}*\n${summary}` } },
      {
        type: "context",
        elements: [
          { type: "mrkdwn", text: escapeSlack(`${source} · ${event.at.toISOString()} · ${event.id}`) },
        ],
      },
    ],
  };
}
