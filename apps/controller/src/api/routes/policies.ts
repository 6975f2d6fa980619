import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Catalog, Policy } from "@pwdr/catalog";
import { Type } from "typebox";
import {
  createPolicy,
  deletePolicy,
  getPolicy,
  InvalidPolicyError,
  listPolicies,
  PolicyInUseError,
  PolicyNameTakenError,
  PolicyNotFoundError,
  updatePolicy,
} from "../../policies.js";
import {
  PolicyInput,
  PolicyPatch,
  type PolicyRetention,
  type PolicyScheduling,
  type PolicySource,
  type PolicyVerification,
} from "../../policy-schema.js";
import { ApiError, notFound } from "../api-errors.js";
import { IdParams } from "../schemas/common.js";
import { errorResponses } from "../schemas/error.js";
import { PolicyView } from "../schemas/policy.js";

export interface PolicyRouteOptions {
  db: Catalog;
  /** Called after every change, so connected agents get their new policy. */
  onChange?: () => void;
}

function toView(policy: Policy) {
  return {
    id: policy.id,
    name: policy.name,
    parentId: policy.parentId,
    selector: policy.selector as Record<string, string>,
    sources: policy.sources as PolicySource[] | null,
    schedule: policy.schedule,
    retention: policy.retention as PolicyRetention | null,
    verification: policy.verification as PolicyVerification | null,
    scheduling: policy.scheduling as PolicyScheduling | null,
    repositoryId: policy.repositoryId,
    enabled: policy.enabled,
    createdAt: policy.createdAt.toISOString(),
    updatedAt: policy.updatedAt.toISOString(),
  };
}

function toApiError(err: unknown): unknown {
  if (err instanceof InvalidPolicyError) {
    const details = err.issues.map((i) => ({ path: `body/${i.field}`, message: i.message }));
    return new ApiError("VALIDATION_FAILED", "the policy is not valid", details);
  }
  if (err instanceof PolicyNameTakenError || err instanceof PolicyInUseError)
    return new ApiError("CONFLICT", err.message);
  if (err instanceof PolicyNotFoundError) return notFound("policy", err.policyId);
  return err;
}

async function mapped<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toApiError(err);
  }
}

/** Backup policies: everyone with a token reads them, admins change them. */
export const policyRoutes: FastifyPluginAsyncTypebox<PolicyRouteOptions> = async (app, { db, onChange }) => {
  const changed = () => onChange?.();

  app.get(
    "/policies",
    {
      config: { access: "viewer" },
      schema: {
        summary: "List policies",
        tags: ["policies"],
        response: { 200: Type.Object({ policies: Type.Array(PolicyView) }), ...errorResponses },
      },
    },
    async () => ({ policies: (await listPolicies(db)).map(toView) }),
  );

  app.get(
    "/policies/:id",
    {
      config: { access: "viewer" },
      schema: {
        summary: "Show one policy",
        tags: ["policies"],
        params: IdParams,
        response: { 200: PolicyView, ...errorResponses },
      },
    },
    async (request) => toView(await mapped(() => getPolicy(db, request.params.id))),
  );

  app.post(
    "/policies",
    {
      config: { access: "admin", audit: { action: "policy.create", targetKind: "policy" } },
      schema: {
        summary: "Create a policy",
        description:
          "Cron syntax, durations, the parent and the repository are checked as well as the shape.",
        tags: ["policies"],
        body: PolicyInput,
        response: { 201: PolicyView, ...errorResponses },
      },
    },
    async (request, reply) => {
      const policy = await mapped(() => createPolicy(db, request.body));
      request.auditTargetId = policy.id;
      changed();
      return reply.status(201).send(toView(policy));
    },
  );

  app.patch(
    "/policies/:id",
    {
      config: { access: "admin", audit: { action: "policy.update", targetKind: "policy" } },
      schema: {
        summary: "Change a policy",
        description:
          "Fields left out stay as they are; null clears a field so it inherits from the parent. " +
          "verification and scheduling change field by field. A parent that would make a cycle is refused.",
        tags: ["policies"],
        params: IdParams,
        body: PolicyPatch,
        response: { 200: PolicyView, ...errorResponses },
      },
    },
    async (request) => {
      const policy = await mapped(() => updatePolicy(db, request.params.id, request.body));
      changed();
      return toView(policy);
    },
  );

  app.delete(
    "/policies/:id",
    {
      config: { access: "admin", audit: { action: "policy.delete", targetKind: "policy" } },
      schema: {
        summary: "Delete a policy",
        description:
          "Refused with 409 CONFLICT while child policies or unfinished jobs refer to it; " +
          "finished jobs keep their history without it.",
        tags: ["policies"],
        params: IdParams,
        response: { 200: PolicyView, ...errorResponses },
      },
    },
    async (request) => {
      const policy = await mapped(() => deletePolicy(db, request.params.id));
      changed();
      return toView(policy);
    },
  );
};
