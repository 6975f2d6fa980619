// The API's error catalog: every error response carries one of these codes, and
// a code keeps its meaning once published (clients branch on it, not on messages).

export const API_ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  MALFORMED_BODY: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  CONFLICT: 409,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

export interface ApiErrorDetail {
  /** Where the problem is, e.g. "body/role" or "querystring/limit". */
  path: string;
  message: string;
}

/** An error a route throws on purpose; its message is safe to show the caller. */
export class ApiError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: ApiErrorDetail[],
  ) {
    super(message);
    this.statusCode = API_ERROR_STATUS[code];
  }
}

export function notFound(kind: string, id: string): ApiError {
  return new ApiError("NOT_FOUND", `no ${kind} with id "${id}"`);
}
