import { HOST_STATES } from "@pwdr/catalog";
import { Type } from "typebox";
import { Labels, OptionalTimestamp, Timestamp } from "./common.js";

export const HostState = Type.Enum([...HOST_STATES]);

export const HostSummary = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    labels: Labels,
    site: Type.Union([Type.String(), Type.Null()]),
    state: HostState,
    agentVersion: Type.Union([Type.String(), Type.Null()]),
    lastSeenAt: OptionalTimestamp,
    revokedAt: Type.Union([Timestamp, Type.Null()], {
      description: "When an operator revoked the host's certificates; its agent must enroll again",
    }),
    lastBackupAt: Type.Union([Timestamp, Type.Null()], {
      description: "Time of the host's newest complete recovery point; null before the first",
    }),
    rpoBreachedSince: Type.Union([Timestamp, Type.Null()], {
      description:
        "Since when its last successful backup is older than its policy's RPO; null while within it",
    }),
    createdAt: Timestamp,
  },
  { description: "A host as listed" },
);

export const HostDetail = Type.Object(
  {
    ...HostSummary.properties,
    facts: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], {
      description: "What the agent reported in its hello: OS, architecture, sources and versions",
    }),
    updatedAt: Timestamp,
  },
  { description: "A host with the facts its agent reported" },
);

export const HostListQuery = Type.Object(
  {
    state: Type.Optional(HostState),
    site: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false },
);

export const HostRevocationView = Type.Object(
  {
    host: HostSummary,
    revokedCertificates: Type.Integer({
      description: "Certificates this call revoked; 0 when the host was revoked already",
    }),
    sessionClosed: Type.Boolean({ description: "Whether the host's open session stream was ended" }),
  },
  { description: "The outcome of revoking a host's certificates" },
);
