import { Type } from "typebox";
import { Duration, LabelsInput, Timestamp } from "./common.js";

export const CreateEnrollmentTokenBody = Type.Object(
  {
    ttl: Type.Optional(Duration),
    labels: Type.Optional(LabelsInput),
  },
  { additionalProperties: false },
);

export const CreatedEnrollmentToken = Type.Object(
  {
    id: Type.String(),
    token: Type.String({
      description: "The one-time token for `pwdr-agent enroll`; shown only in this response",
    }),
    expiresAt: Timestamp,
  },
  { description: "A new enrollment token, with its secret this once" },
);
