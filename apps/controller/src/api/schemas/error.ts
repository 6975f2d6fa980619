import { Type } from "typebox";
import { API_ERROR_STATUS } from "../api-errors.js";

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.Enum(Object.keys(API_ERROR_STATUS)),
      message: Type.String(),
      details: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
    }),
  },
  { $id: "ErrorBody", description: "The one shape of every error response" },
);

/** Added to every route's responses so the OpenAPI document shows the error shape. */
export const errorResponses = {
  "4xx": Type.Ref("ErrorBody"),
  "5xx": Type.Ref("ErrorBody"),
};
