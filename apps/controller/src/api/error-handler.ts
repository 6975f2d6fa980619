import type { Logger } from "@pwdr/logging";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { API_ERROR_STATUS, ApiError, type ApiErrorCode, type ApiErrorDetail } from "./api-errors.js";

interface ErrorHandlerOptions {
  log: Logger;
}

// Fastify's own 4xx errors (bad JSON, body too large, …) describe the caller's
// request, so their messages are safe to pass on under one of our codes.
const CODE_BY_STATUS: Record<number, ApiErrorCode> = {
  404: "ROUTE_NOT_FOUND",
  413: "BODY_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
};

function validationDetails(error: FastifyError): ApiErrorDetail[] {
  return (error.validation ?? []).map((issue) => {
    const extra = issue.params as {
      additionalProperty?: string;
      missingProperty?: string;
      allowedValues?: unknown[];
    };
    const field = extra.additionalProperty ?? extra.missingProperty;
    const path = `${error.validationContext ?? "request"}${issue.instancePath}${field ? `/${field}` : ""}`;
    const allowed = extra.allowedValues ? `: ${extra.allowedValues.join(", ")}` : "";
    return { path, message: `${issue.message ?? "is invalid"}${allowed}` };
  });
}

function toApiError(error: FastifyError, request: FastifyRequest, log: Logger): ApiError {
  if (error instanceof ApiError) return error;
  if (error.validation) {
    return new ApiError(
      "VALIDATION_FAILED",
      "the request does not match the schema",
      validationDetails(error),
    );
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500)
    return new ApiError(CODE_BY_STATUS[status] ?? "MALFORMED_BODY", error.message);
  log.error("API request failed", {
    requestId: request.id,
    method: request.method,
    route: request.routeOptions.url,
    error: error.message,
    stack: error.stack,
  });
  return new ApiError("INTERNAL", `internal error; the controller log has the cause (request ${request.id})`);
}

export function sendApiError(reply: FastifyReply, error: ApiError): FastifyReply {
  const body = {
    code: error.code,
    message: error.message,
    ...(error.details ? { details: error.details } : {}),
  };
  if (error.code === "UNAUTHENTICATED") reply.header("www-authenticate", 'Bearer realm="pwdr"');
  return reply.status(API_ERROR_STATUS[error.code]).send({ error: body });
}

async function errorHandler(app: FastifyInstance, options: ErrorHandlerOptions): Promise<void> {
  app.setErrorHandler((error: FastifyError, request, reply) =>
    sendApiError(reply, toApiError(error, request, options.log)),
  );
  app.setNotFoundHandler((request, reply) =>
    sendApiError(
      reply,
      new ApiError("ROUTE_NOT_FOUND", `no route ${request.method} ${request.url.split("?")[0]}`),
    ),
  );
}

/** One error shape for every failure, including unknown routes; 5xx responses never carry internals. */
export default fp(errorHandler, { name: "pwdr-error-handler" });
