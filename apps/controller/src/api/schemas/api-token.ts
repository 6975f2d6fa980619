import { API_TOKEN_ROLES } from "@pwdr/catalog";
import { Type } from "typebox";
import { API_TOKEN_NAME_PATTERN } from "../../api-tokens.js";
import { Duration, OptionalTimestamp, Timestamp } from "./common.js";

export const ApiTokenRole = Type.Enum([...API_TOKEN_ROLES]);

export const ApiTokenName = Type.String({ pattern: API_TOKEN_NAME_PATTERN, examples: ["ci-nightly"] });

export const ApiTokenView = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    role: ApiTokenRole,
    createdAt: Timestamp,
    expiresAt: OptionalTimestamp,
    lastUsedAt: OptionalTimestamp,
    revokedAt: OptionalTimestamp,
  },
  { description: "An API token without its secret" },
);

export const CreateApiTokenBody = Type.Object(
  {
    name: ApiTokenName,
    role: ApiTokenRole,
    ttl: Type.Optional(Duration),
  },
  { additionalProperties: false },
);

export const CreatedApiTokenView = Type.Object(
  {
    ...ApiTokenView.properties,
    token: Type.String({ description: "The bearer token; shown only in this response" }),
  },
  { description: "A new API token, with its secret this once" },
);
