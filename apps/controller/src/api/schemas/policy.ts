import { Type } from "typebox";
import { PolicyRetention, PolicySource } from "../../policy-schema.js";
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
    repositoryId: Type.Union([Type.String(), Type.Null()]),
    enabled: Type.Boolean(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { description: "A policy as stored; null fields inherit from the parent" },
);
