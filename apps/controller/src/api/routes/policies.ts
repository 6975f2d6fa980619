import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Catalog, Policy } from "@pwdr/catalog";
import { Type } from "typebox";
import { createPolicy, InvalidPolicyError, listPolicies, PolicyNameTakenError } from "../../policies.js";
import { PolicyInput, type PolicyRetention, type PolicySource } from "../../policy-schema.js";
import { ApiError } from "../api-errors.js";
import { errorResponses } from "../schemas/error.js";
import { PolicyView } from "../schemas/policy.js";

function toView(policy: Policy) {
  return {
    id: policy.id,
    name: policy.name,
    parentId: policy.parentId,
    selector: policy.selector as Record<string, string>,
    sources: policy.sources as PolicySource[] | null,
    schedule: policy.schedule,
    retention: policy.retention as PolicyRetention | null,
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
  if (err instanceof PolicyNameTakenError) return new ApiError("CONFLICT", err.message);
  return err;
}

/** Backup policies: everyone with a token reads them, admins create them. */
export const policyRoutes: FastifyPluginAsyncTypebox<{ db: Catalog }> = async (app, { db }) => {
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

  app.post(
    "/policies",
    {
      config: { access: "admin", audit: { action: "policy.create", targetKind: "policy" } },
      schema: {
        summary: "Create a policy",
        description: "Cron syntax, the parent and the repository are checked as well as the shape.",
        tags: ["policies"],
        body: PolicyInput,
        response: { 201: PolicyView, ...errorResponses },
      },
    },
    async (request, reply) => {
      try {
        const policy = await createPolicy(db, request.body);
        request.auditTargetId = policy.id;
        return reply.status(201).send(toView(policy));
      } catch (err) {
        throw toApiError(err);
      }
    },
  );
};
