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
