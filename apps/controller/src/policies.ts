import { type Catalog, isUniqueViolation, type Policy, Prisma } from "@pwdr/catalog";
import { Cron } from "croner";
import { parseDuration } from "./duration.js";
import type {
  PolicyInput,
  PolicyPatch,
  PolicyScheduling,
  PolicySource,
  PolicyVerification,
} from "./policy-schema.js";

export interface PolicyIssue {
  /** The input field at fault, e.g. "schedule" or "sources/1/name". */
  field: string;
  message: string;
}

/** The input is well-formed but wrong: a bad cron expression, an unknown parent, … */
export class InvalidPolicyError extends Error {
  readonly code = "POLICY_INVALID";
  constructor(readonly issues: PolicyIssue[]) {
    super(`the policy is invalid: ${issues.map((i) => `${i.field} ${i.message}`).join("; ")}`);
  }
}

export class PolicyNameTakenError extends Error {
  readonly code = "POLICY_NAME_TAKEN";
  constructor(name: string) {
    super(`a policy named "${name}" already exists; pick another name`);
  }
}

export class PolicyNotFoundError extends Error {
  readonly code = "POLICY_NOT_FOUND";
  constructor(readonly policyId: string) {
    super(`no policy with id "${policyId}"`);
  }
}

/** Deleting would orphan child policies or unfinished jobs. */
export class PolicyInUseError extends Error {
  readonly code = "POLICY_IN_USE";
  constructor(name: string, children: number, jobs: number) {
    const uses = [
      children > 0 ? `${children} child ${children === 1 ? "policy" : "policies"}` : "",
      jobs > 0 ? `${jobs} unfinished ${jobs === 1 ? "job" : "jobs"}` : "",
    ].filter(Boolean);
    super(
      `policy "${name}" is still used by ${uses.join(" and ")}; move or delete the children and ` +
        "wait for (or cancel) the jobs, or disable the policy instead",
    );
  }
}

/** The settings of a policy as stored (after a create or a patch), before they are checked. */
interface PolicyFields {
  name: string;
  parentId: string | null;
  selector: Record<string, string>;
  sources: PolicySource[] | null;
  schedule: string | null;
  retention: object | null;
  verification: PolicyVerification | null;
  scheduling: PolicyScheduling | null;
  repositoryId: string | null;
  enabled: boolean;
}

const UNFINISHED_JOB_STATES = ["pending", "dispatched", "running"];
// Prisma's code for a write refused by a foreign key (here: onDelete Restrict).
const FOREIGN_KEY_VIOLATION = "P2003";

function cronIssue(field: string, cron: string | undefined | null): PolicyIssue[] {
  if (cron === undefined || cron === null) return [];
  try {
    new Cron(cron, { paused: true });
    return [];
  } catch (err) {
    return [{ field, message: `is not a cron expression: ${(err as Error).message}` }];
  }
}

function duplicateSourceIssues(sources: PolicySource[] | null): PolicyIssue[] {
  const seen = new Set<string>();
  return (sources ?? []).flatMap((source, i) => {
    if (!seen.has(source.name)) {
      seen.add(source.name);
      return [];
    }
    return [{ field: `sources/${i}/name`, message: `"${source.name}" is used by an earlier source` }];
  });
}

function schedulingIssues(scheduling: PolicyScheduling | null): PolicyIssue[] {
  if (!scheduling) return [];
  const issues = cronIssue("scheduling/pruneSchedule", scheduling.pruneSchedule);
  const { window, rpo, retry } = scheduling;
  if (window && window.start === window.end)
    issues.push({
      field: "scheduling/window",
      message: "start and end are equal; leave the window out to allow any time",
    });
  if (rpo !== undefined && parseDuration(rpo, "rpo") === 0)
    issues.push({ field: "scheduling/rpo", message: "must be longer than 0, e.g. 26h" });
  if (retry && parseDuration(retry.initialDelay, "initialDelay") > parseDuration(retry.maxDelay, "maxDelay"))
    issues.push({ field: "scheduling/retry/maxDelay", message: "must not be shorter than initialDelay" });
  return issues;
}

function localIssues(fields: PolicyFields): PolicyIssue[] {
  return [
    ...cronIssue("schedule", fields.schedule),
    ...cronIssue("verification/checkSchedule", fields.verification?.checkSchedule),
    ...cronIssue("verification/drillSchedule", fields.verification?.drillSchedule),
    ...cronIssue("verification/fleetDrillSchedule", fields.verification?.fleetDrillSchedule),
    ...schedulingIssues(fields.scheduling),
    ...duplicateSourceIssues(fields.sources),
  ];
}

/** The parent must exist and must not descend from the policy itself. */
async function parentIssues(
  db: Catalog,
  policyId: string | undefined,
  parentId: string | null,
): Promise<PolicyIssue[]> {
  if (parentId === null) return [];
  const seen = new Set<string>();
  let cursor: string | null = parentId;
  while (cursor !== null && !seen.has(cursor)) {
    if (cursor === policyId)
      return [{ field: "parentId", message: "would make the policy its own ancestor (a cycle)" }];
    seen.add(cursor);
    const row: { parentId: string | null } | null = await db.policy.findUnique({
      where: { id: cursor },
      select: { parentId: true },
    });
    if (!row) return cursor === parentId ? [{ field: "parentId", message: "names no policy" }] : [];
    cursor = row.parentId;
  }
  return [];
}

async function repositoryIssues(db: Catalog, repositoryId: string | null): Promise<PolicyIssue[]> {
  if (repositoryId === null) return [];
  const repository = await db.repository.findUnique({ where: { id: repositoryId } });
  return repository ? [] : [{ field: "repositoryId", message: "names no repository" }];
}

async function check(db: Catalog, fields: PolicyFields, policyId?: string): Promise<void> {
  const issues = [
    ...localIssues(fields),
    ...(await parentIssues(db, policyId, fields.parentId)),
    ...(await repositoryIssues(db, fields.repositoryId)),
  ];
  if (issues.length > 0) throw new InvalidPolicyError(issues);
}

function jsonOrNull(value: object | null): Prisma.InputJsonValue | typeof Prisma.DbNull {
  return value === null ? Prisma.DbNull : (value as Prisma.InputJsonValue);
}

function toData(fields: PolicyFields) {
  return {
    ...fields,
    sources: jsonOrNull(fields.sources),
    retention: jsonOrNull(fields.retention),
    verification: jsonOrNull(fields.verification),
    scheduling: jsonOrNull(fields.scheduling),
  };
}

async function saving<T>(name: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (isUniqueViolation(err)) throw new PolicyNameTakenError(name);
    throw err;
  }
}

/** Checks what the schema cannot (cron syntax, references, unique source names) and stores the policy. */
export async function createPolicy(db: Catalog, input: PolicyInput): Promise<Policy> {
  const fields: PolicyFields = {
    name: input.name,
    parentId: input.parentId ?? null,
    selector: input.selector ?? {},
    sources: input.sources ?? null,
    schedule: input.schedule ?? null,
    retention: input.retention ?? null,
    verification: emptyToNull(input.verification ?? {}),
    scheduling: emptyToNull(input.scheduling ?? {}),
    repositoryId: input.repositoryId ?? null,
    enabled: input.enabled ?? true,
  };
  await check(db, fields);
  return saving(fields.name, () => db.policy.create({ data: toData(fields) }));
}

export function listPolicies(db: Catalog): Promise<Policy[]> {
  return db.policy.findMany({ orderBy: { name: "asc" } });
}

export async function getPolicy(db: Catalog, id: string): Promise<Policy> {
  const policy = await db.policy.findUnique({ where: { id } });
  if (!policy) throw new PolicyNotFoundError(id);
  return policy;
}

function emptyToNull<T extends object>(value: T): T | null {
  return Object.keys(value).length === 0 ? null : value;
}

/** Applies a field-by-field patch to a JSON group: null removes a field, undefined keeps it. */
function mergeGroup<T extends object>(
  stored: unknown,
  patch: Record<string, unknown> | null | undefined,
): T | null {
  if (patch === undefined) return (stored as T | null) ?? null;
  if (patch === null) return null;
  const merged: Record<string, unknown> = { ...((stored as Record<string, unknown> | null) ?? {}) };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else if (value !== undefined) merged[key] = value;
  }
  return emptyToNull(merged) as T | null;
}

function patched<T>(value: T | null | undefined, stored: T | null): T | null {
  return value === undefined ? stored : value;
}

/** Changes the given fields; null clears a field so it inherits from the parent again. */
export async function updatePolicy(db: Catalog, id: string, patch: PolicyPatch): Promise<Policy> {
  const stored = await getPolicy(db, id);
  const fields: PolicyFields = {
    name: patch.name ?? stored.name,
    parentId: patched(patch.parentId, stored.parentId),
    selector: patch.selector ?? (stored.selector as Record<string, string>),
    sources: patched(patch.sources, stored.sources as PolicySource[] | null),
    schedule: patched(patch.schedule, stored.schedule),
    retention: patched(patch.retention, stored.retention as object | null),
    verification: mergeGroup(stored.verification, patch.verification),
    scheduling: mergeGroup(stored.scheduling, patch.scheduling),
    repositoryId: patched(patch.repositoryId, stored.repositoryId),
    enabled: patch.enabled ?? stored.enabled,
  };
  await check(db, fields, id);
  return saving(fields.name, () => db.policy.update({ where: { id }, data: toData(fields) }));
}

/** Deletes a policy nothing depends on any more; finished jobs keep their history without it. */
export async function deletePolicy(db: Catalog, id: string): Promise<Policy> {
  const policy = await getPolicy(db, id);
  const [children, jobs] = await Promise.all([
    db.policy.count({ where: { parentId: id } }),
    db.job.count({ where: { policyId: id, state: { in: UNFINISHED_JOB_STATES } } }),
  ]);
  if (children > 0 || jobs > 0) throw new PolicyInUseError(policy.name, children, jobs);
  try {
    await db.policy.delete({ where: { id } });
  } catch (err) {
    // A child created since the count: the catalog's restrict rule caught it.
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === FOREIGN_KEY_VIOLATION)
      throw new PolicyInUseError(policy.name, 1, 0);
    throw err;
  }
  return policy;
}
