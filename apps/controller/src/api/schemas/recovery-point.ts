import { RECOVERY_POINT_STATUSES, SNAPSHOT_STATUSES, SOURCE_KINDS } from "@pwdr/catalog";
import { Type } from "typebox";
import { Timestamp } from "./common.js";

const Bytes = Type.Integer({ minimum: 0 });
export const RecoveryPointStatus = Type.Enum([...RECOVERY_POINT_STATUSES]);

export const RecoveryPointView = Type.Object(
  {
    id: Type.String({
      description: "The recovery point's id in its repository, e.g. 20261126T021500Z-a1b2c3",
    }),
    hostId: Type.String(),
    hostName: Type.String(),
    time: Timestamp,
    status: RecoveryPointStatus,
    versions: Type.Record(Type.String(), Type.String()),
    jobRunId: Type.Union([Type.String(), Type.Null()], {
      description: "Null for points found by a catalog rebuild",
    }),
    snapshotCount: Type.Integer({ minimum: 0 }),
    createdAt: Timestamp,
  },
  { description: "Everything one backup run captured on one host" },
);

export const SnapshotView = Type.Object(
  {
    id: Type.String(),
    repository: Type.String({ description: "Catalog name of the repository" }),
    snapshotId: Type.String({ description: "The snapshot's id inside its repository" }),
    sourceName: Type.String(),
    sourceKind: Type.Enum([...SOURCE_KINDS]),
    time: Timestamp,
    sizeBytes: Bytes,
    addedBytes: Bytes,
    fileCount: Type.Integer({ minimum: 0 }),
    status: Type.Enum([...SNAPSHOT_STATUSES]),
    error: Type.Union([Type.String(), Type.Null()]),
    stats: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  },
  { description: "One source's snapshot" },
);

export const RecoveryPointDetail = Type.Object(
  { ...RecoveryPointView.properties, snapshots: Type.Array(SnapshotView) },
  { description: "A recovery point with its snapshots" },
);

export const RecoveryPointListQuery = Type.Object(
  {
    host: Type.Optional(Type.String({ minLength: 1, maxLength: 253, description: "Host id or name" })),
    status: Type.Optional(RecoveryPointStatus),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    cursor: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: "nextCursor of the previous page" }),
    ),
  },
  { additionalProperties: false },
);

export const RecoveryPointPage = Type.Object({
  recoveryPoints: Type.Array(RecoveryPointView),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: "Pass as cursor for the next page" }),
});
