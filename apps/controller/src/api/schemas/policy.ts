import { Type } from "typebox";
import { PolicyRetention, PolicyScheduling, PolicySource, PolicyVerification } from "../../policy-schema.js";
import { Labels, Timestamp } from "./common.js";

export const PolicyView = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    parentId: Type.Union([Type.String(), Type.Null()]),
    selector: Labels,
    sources: Type.Union([Type.Array(PolicySource), Type.Null()]),
    schedule: Type.Union([Type.String(), Type.Null()]),
    retention: Type.Union([PolicyRetention, Type.Null()]),
    verification: Type.Union([PolicyVerification, Type.Null()]),
    scheduling: Type.Union([PolicyScheduling, Type.Null()]),
    repositoryId: Type.Union([Type.String(), Type.Null()]),
    enabled: Type.Boolean(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { description: "A policy as stored; null fields inherit from the parent" },
);

const FieldOrigin = Type.Object({ policyId: Type.String(), policyName: Type.String() });

export const EffectivePolicyView = Type.Object(
  {
    hostId: Type.String(),
    policy: Type.Union([Type.Object({ id: Type.String(), name: Type.String() }), Type.Null()], {
      description: "The policy that governs the host (the most specific match); null when none selects it",
    }),
    version: Type.String({ description: "Version of the policy the agent is sent (AgentPolicy.version)" }),
    effective: Type.Union([
      Type.Object({
        sources: Type.Union([Type.Array(PolicySource), Type.Null()]),
        schedule: Type.Union([Type.String(), Type.Null()]),
        retention: Type.Union([PolicyRetention, Type.Null()]),
        repositoryId: Type.Union([Type.String(), Type.Null()]),
        verification: PolicyVerification,
        scheduling: PolicyScheduling,
      }),
      Type.Null(),
    ]),
    origins: Type.Record(Type.String(), FieldOrigin, {
      description:
        'Per field ("schedule", "scheduling.window", …) the policy it came from; unset fields are absent',
    }),
  },
  { description: "The settings a host follows after inheritance, and where each came from" },
);
