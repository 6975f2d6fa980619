import * as grpc from "@grpc/grpc-js";

/** An error a gRPC handler returns to the caller with a status code and a safe message. */
export class RpcError extends Error {
  constructor(
    readonly status: grpc.status,
    message: string,
  ) {
    super(message);
    this.name = "RpcError";
  }
}

/** Turns anything thrown in a handler into a status; unexpected errors never leak their text. */
export function toServiceError(err: unknown): Partial<grpc.ServiceError> {
  if (err instanceof RpcError) return { code: err.status, details: err.message };
  return { code: grpc.status.INTERNAL, details: "internal error; see the controller log" };
}
