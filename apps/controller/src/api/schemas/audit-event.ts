import { Type } from "typebox";
import { Timestamp } from "./common.js";

export const AuditEventView = Type.Object(
  {
    id: Type.Integer(),
    at: Timestamp,
    actor: Type.String(),
    action: Type.String(),
    target: Type.Union([Type.String(), Type.Null()]),
    details: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  },
  { description: "Who did what to what, and the outcome" },
);

export const AuditEventQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    before: Type.Optional(
      Type.Integer({ minimum: 1, description: "Only events with a smaller id (paging)" }),
    ),
    action: Type.Optional(Type.String({ maxLength: 128 })),
    target: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);
