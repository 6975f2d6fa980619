// The webhook targets, as the operator writes them in a JSON file (by
// default <data-dir>/notifications.json), validated once at start.
import { readFile } from "node:fs/promises";
import { type Static, Type } from "typebox";
import { Value } from "typebox/value";
import { Duration } from "../api/schemas/common.js";
import { parseDuration } from "../duration.js";
import { EVENT_TYPES, type EventType } from "./controller-events.js";

const HeaderName = Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9-]{0,63}$" });

const SecretHeader = Type.Object(
  {
    name: HeaderName,
    /** The value inline; prefer valueFile, which keeps it out of the config file. */
    value: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    valueFile: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

const Webhook = Type.Object(
  {
    /** Shown in logs instead of the URL (a Slack webhook URL is itself a secret). */
    name: Type.String({ pattern: "^[a-z0-9][a-z0-9._-]{0,62}$" }),
    url: Type.String({ pattern: "^https?://", maxLength: 2048 }),
    format: Type.Optional(Type.Union([Type.Literal("json"), Type.Literal("slack")])),
    /** Only these events; all when omitted. */
    events: Type.Optional(
      Type.Array(Type.Union(EVENT_TYPES.map((t) => Type.Literal(t))), { minItems: 1, uniqueItems: true }),
    ),
    secretHeader: Type.Optional(SecretHeader),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 120_000 })),
  },
  { additionalProperties: false },
);

const Retry = Type.Object(
  {
    /** Deliveries tried at most, the first included. */
    attempts: Type.Integer({ minimum: 1, maximum: 50 }),
    initialDelayMs: Type.Integer({ minimum: 1, maximum: 3_600_000 }),
    maxDelayMs: Type.Integer({ minimum: 1, maximum: 86_400_000 }),
  },
  { additionalProperties: false },
);

export const NotificationConfigSchema = Type.Object(
  {
    webhooks: Type.Array(Webhook, { maxItems: 64 }),
    retry: Type.Optional(Retry),
    /** How long before an agent certificate expires it is reported (default 14d). */
    certificateWarning: Type.Optional(Duration),
    /** Deliveries waiting per webhook before the oldest is dropped (default 1000). */
    queueLimit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
  },
  { additionalProperties: false },
);
export type NotificationConfigInput = Static<typeof NotificationConfigSchema>;

export interface RetrySettings {
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/** A webhook target ready to use; `secretHeader.value` is read from its file and never logged. */
export interface WebhookTarget {
  name: string;
  url: URL;
  format: "json" | "slack";
  events: ReadonlySet<EventType>;
  secretHeader?: { name: string; value: string };
  timeoutMs: number;
}

export interface NotificationConfig {
  webhooks: WebhookTarget[];
  retry: RetrySettings;
  certificateWarningMs: number;
  queueLimit: number;
}

export const DEFAULT_RETRY: RetrySettings = { attempts: 12, initialDelayMs: 2_000, maxDelayMs: 300_000 };
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_CERTIFICATE_WARNING_MS = 14 * 86_400_000;
const DEFAULT_QUEUE_LIMIT = 1_000;

/** The configuration file is missing parts, malformed, or names a secret file that cannot be read. */
export class NotificationConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`notifications config ${source} is not valid: ${problems.join("; ")}`);
    this.name = "NotificationConfigError";
  }
}

function schemaProblems(input: unknown): string[] {
  return Value.Errors(NotificationConfigSchema, input).map((e) => {
    const params = e.params as { requiredProperties?: string[]; additionalProperties?: string[] };
    const names = params.requiredProperties ?? params.additionalProperties;
    return `${e.instancePath || "/"}: ${e.message}${names ? `: ${names.join(", ")}` : ""}`;
  });
}

function targetProblems(input: NotificationConfigInput): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  input.webhooks.forEach((w, i) => {
    if (names.has(w.name)) problems.push(`/webhooks/${i}/name: "${w.name}" is used twice`);
    names.add(w.name);
    if (!URL.canParse(w.url)) problems.push(`/webhooks/${i}/url: not a URL`);
    const secret = w.secretHeader;
    if (secret && (secret.value === undefined) === (secret.valueFile === undefined))
      problems.push(`/webhooks/${i}/secretHeader: give exactly one of value and valueFile`);
  });
  if (input.retry && input.retry.initialDelayMs > input.retry.maxDelayMs)
    problems.push("/retry: initialDelayMs is longer than maxDelayMs");
  return problems;
}

async function secretValue(source: string, index: number, secret: { value?: string; valueFile?: string }) {
  if (secret.value !== undefined) return secret.value;
  try {
    const value = (await readFile(secret.valueFile ?? "", "utf8")).trim();
    if (value) return value;
    throw new Error("the file is empty");
  } catch (err) {
    throw new NotificationConfigError(source, [
      `/webhooks/${index}/secretHeader/valueFile: cannot read ${secret.valueFile} (${(err as Error).message})`,
    ]);
  }
}

/** Validates a parsed configuration and reads its secret files; `source` names it in errors. */
export async function resolveNotificationConfig(input: unknown, source: string): Promise<NotificationConfig> {
  const problems = schemaProblems(input);
  if (problems.length > 0) throw new NotificationConfigError(source, problems);
  const config = input as NotificationConfigInput;
  const more = targetProblems(config);
  if (more.length > 0) throw new NotificationConfigError(source, more);
  const webhooks = await Promise.all(
    config.webhooks.map(async (w, i): Promise<WebhookTarget> => {
      const secret = w.secretHeader
        ? { name: w.secretHeader.name, value: await secretValue(source, i, w.secretHeader) }
        : undefined;
      return {
        name: w.name,
        url: new URL(w.url),
        format: w.format ?? "json",
        events: new Set(w.events ?? EVENT_TYPES),
        ...(secret ? { secretHeader: secret } : {}),
        timeoutMs: w.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      };
    }),
  );
  return {
    webhooks,
    retry: config.retry ?? DEFAULT_RETRY,
    certificateWarningMs: config.certificateWarning
      ? parseDuration(config.certificateWarning, "certificateWarning")
      : DEFAULT_CERTIFICATE_WARNING_MS,
    queueLimit: config.queueLimit ?? DEFAULT_QUEUE_LIMIT,
  };
}

/** Reads and validates the configuration file. */
export async function loadNotificationConfig(path: string): Promise<NotificationConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new NotificationConfigError(path, [`cannot read the file (${(err as Error).message})`]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new NotificationConfigError(path, [`not JSON (${(err as Error).message})`]);
  }
  return resolveNotificationConfig(parsed, path);
}
