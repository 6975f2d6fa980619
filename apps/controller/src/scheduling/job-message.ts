// Catalog job rows as the wire Job the agent runs (proto pwdr.v1.Job).
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { Job as JobRow } from "@pwdr/catalog";
import { type Job, JobSchema, RetentionSchema, ServiceAction } from "@pwdr/protocol";
import { parseDuration } from "../duration.js";
import type { PolicyRetention } from "../policy-schema.js";

type JobInit = MessageInitShape<typeof JobSchema>;
type SpecInit = NonNullable<JobInit["spec"]>;
type Spec = Record<string, unknown>;

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);
const text = (value: unknown): string => (typeof value === "string" ? value : "");

export function retentionMessage(retention: PolicyRetention | null | undefined) {
  const r = retention ?? {};
  return create(RetentionSchema, {
    keepLast: r.keepLast ?? 0,
    keepHourly: r.keepHourly ?? 0,
    keepDaily: r.keepDaily ?? 0,
    keepWeekly: r.keepWeekly ?? 0,
    keepMonthly: r.keepMonthly ?? 0,
    keepYearly: r.keepYearly ?? 0,
    ...(r.within ? { keepWithin: durationFromMs(parseDuration(r.within, "within")) } : {}),
  });
}

function timeoutOf(spec: Spec) {
  return typeof spec.timeoutSeconds === "number"
    ? { timeout: durationFromMs(spec.timeoutSeconds * 1_000) }
    : {};
}

const SERVICE_ACTIONS: Record<string, ServiceAction> = {
  stop: ServiceAction.STOP,
  start: ServiceAction.START,
  restart: ServiceAction.RESTART,
};

/**
 * The wire spec of a job of `kind` from its params.spec. `repository` is the
 * name the agent knows the policy's repository by; empty means the host's
 * repository on the controller.
 */
export function specMessage(kind: string, spec: Spec, repository: string): SpecInit {
  switch (kind) {
    case "backup":
      return {
        case: "backup",
        value: { sources: strings(spec.sources), tags: strings(spec.tags), repository },
      };
    case "verify":
      return { case: "verify", value: { repository, readDataSubset: text(spec.readDataSubset) } };
    case "drill":
      return {
        case: "drill",
        value: { recoveryPointId: text(spec.recoveryPointId), repository: text(spec.repository) },
      };
    case "prune":
      return {
        case: "prune",
        value: {
          repository,
          retention: retentionMessage(spec.retention as PolicyRetention | undefined),
          dryRun: spec.dryRun === true,
        },
      };
    case "restore":
      return {
        case: "restore",
        value: {
          recoveryPointId: text(spec.recoveryPointId),
          sources: strings(spec.sources),
          targetPrefix: text(spec.targetPrefix),
          dryRun: spec.dryRun === true,
          manageServices: spec.manageServices === true,
          repository: text(spec.repository),
          include: strings(spec.include),
        },
      };
    case "health":
      return { case: "healthCheck", value: { url: text(spec.url), ...timeoutOf(spec) } };
    case "command":
      return { case: "command", value: { command: text(spec.command), ...timeoutOf(spec) } };
    case "service":
      return {
        case: "serviceAction",
        value: {
          action: SERVICE_ACTIONS[text(spec.action)] ?? ServiceAction.UNSPECIFIED,
          services: strings(spec.services),
        },
      };
    default:
      throw new Error(`job kind "${kind}" has no wire form`);
  }
}

/** The slot key of a scheduled job: what follows "<hostId>/" in its idempotency key. */
export function slotKeyOf(row: Pick<JobRow, "hostId" | "idempotencyKey" | "schedule">): string {
  const prefix = `${row.hostId}/`;
  return row.schedule && row.idempotencyKey.startsWith(prefix) ? row.idempotencyKey.slice(prefix.length) : "";
}

/** The Job to send for `row`'s next attempt; the deadline counts from `now`. */
export function jobMessage(row: JobRow, repository: string, now: Date): Job {
  const params = (row.params ?? {}) as { spec?: Spec; timeoutMs?: number };
  return create(JobSchema, {
    jobId: row.id,
    attempt: row.attempt + 1,
    slotKey: slotKeyOf(row),
    ...(params.timeoutMs ? { deadline: timestampFromMs(now.getTime() + params.timeoutMs) } : {}),
    spec: specMessage(row.kind, params.spec ?? {}, repository),
  });
}
