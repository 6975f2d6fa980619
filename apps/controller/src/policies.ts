import { type Catalog, isUniqueViolation, type Policy, Prisma } from "@pwdr/catalog";
import { Cron } from "croner";
import type { PolicyInput, PolicySource } from "./policy-schema.js";

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

function scheduleIssue(schedule: string | undefined): PolicyIssue[] {
  if (schedule === undefined) return [];
  try {
    new Cron(schedule, { paused: true });
    return [];
  } catch (err) {
    return [{ field: "schedule", message: `is not a cron expression: ${(err as Error).message}` }];
  }
}

function duplicateSourceIssues(sources: PolicySource[] | undefined): PolicyIssue[] {
  const seen = new Set<string>();
  return (sources ?? []).flatMap((source, i) => {
    if (!seen.has(source.name)) {
      seen.add(source.name);
      return [];
    }
    return [{ field: `sources/${i}/name`, message: `"${source.name}" is used by an earlier source` }];
  });
}

async function referenceIssues(db: Catalog, input: PolicyInput): Promise<PolicyIssue[]> {
  const [parent, repository] = await Promise.all([
    input.parentId ? db.policy.findUnique({ where: { id: input.parentId } }) : undefined,
    input.repositoryId ? db.repository.findUnique({ where: { id: input.repositoryId } }) : undefined,
  ]);
  const issues: PolicyIssue[] = [];
  if (input.parentId && !parent) issues.push({ field: "parentId", message: "names no policy" });
  if (input.repositoryId && !repository)
    issues.push({ field: "repositoryId", message: "names no repository" });
  return issues;
}

function jsonOrNull(value: object | undefined): Prisma.InputJsonValue | typeof Prisma.DbNull {
  return value === undefined ? Prisma.DbNull : (value as Prisma.InputJsonValue);
}

/** Checks what the schema cannot (cron syntax, references, unique source names) and stores the policy. */
export async function createPolicy(db: Catalog, input: PolicyInput): Promise<Policy> {
  const issues = [
    ...scheduleIssue(input.schedule),
    ...duplicateSourceIssues(input.sources),
    ...(await referenceIssues(db, input)),
  ];
  if (issues.length > 0) throw new InvalidPolicyError(issues);
  try {
    return await db.policy.create({
      data: {
        name: input.name,
        parentId: input.parentId ?? null,
        selector: input.selector ?? {},
        sources: jsonOrNull(input.sources),
        schedule: input.schedule ?? null,
        retention: jsonOrNull(input.retention),
        repositoryId: input.repositoryId ?? null,
        enabled: input.enabled ?? true,
      },
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new PolicyNameTakenError(input.name);
    throw err;
  }
}

export function listPolicies(db: Catalog): Promise<Policy[]> {
  return db.policy.findMany({ orderBy: { name: "asc" } });
}
