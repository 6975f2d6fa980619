// The shape of a policy as operators write it, once: the API validates with
// it and the policy code takes its types from it.
import { SOURCE_KINDS } from "@pwdr/catalog";
import { type Static, Type } from "typebox";
import { Duration, LabelsInput } from "./api/schemas/common.js";

const Keep = Type.Integer({ minimum: 0, maximum: 100_000 });
const Name = Type.String({ pattern: "^[a-z0-9][a-z0-9._-]{0,62}$" });
const Id = Type.String({ minLength: 1, maxLength: 64 });

export const PolicyRetention = Type.Object(
  {
    keepLast: Type.Optional(Keep),
    keepHourly: Type.Optional(Keep),
    keepDaily: Type.Optional(Keep),
    keepWeekly: Type.Optional(Keep),
    keepMonthly: Type.Optional(Keep),
    keepYearly: Type.Optional(Keep),
    within: Type.Optional(Duration),
  },
  { additionalProperties: false, minProperties: 1, description: "What to keep; at least one rule" },
);

export const PolicySource = Type.Object(
  { name: Name, kind: Type.Enum([...SOURCE_KINDS]) },
  { additionalProperties: false, description: "A source to back up, e.g. piwardrive-db (postgres)" },
);

export const PolicyInput = Type.Object(
  {
    name: Name,
    parentId: Type.Optional(Id),
    selector: Type.Optional(LabelsInput),
    sources: Type.Optional(Type.Array(PolicySource, { maxItems: 32 })),
    schedule: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, description: "Cron expression", examples: ["15 2 * * *"] }),
    ),
    retention: Type.Optional(PolicyRetention),
    repositoryId: Type.Optional(Id),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, description: "A new policy; a field left out inherits from the parent" },
);

export type PolicyRetention = Static<typeof PolicyRetention>;
export type PolicySource = Static<typeof PolicySource>;
export type PolicyInput = Static<typeof PolicyInput>;
