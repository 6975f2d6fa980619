import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

export interface ApiClientOptions {
  /** Base URL without the /api/v1 prefix, e.g. https://127.0.0.1:7445. */
  url: string;
  token: string;
  /** PEM of the controller CA, for https URLs. */
  caPem?: string | undefined;
  timeoutMs?: number;
}

/** An error answer of the API, in its one error shape. */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/** The API could not be reached or answered something that is not the API. */
export class ApiUnreachableError extends Error {
  readonly code = "API_UNREACHABLE";
}

interface RawResponse {
  status: number;
  body: string;
}

function describeFailure(status: number, body: string): ApiRequestError {
  try {
    const { error } = JSON.parse(body) as {
      error: { code: string; message: string; details?: { path: string; message: string }[] };
    };
    const details = (error.details ?? []).map((d) => `${d.path} ${d.message}`);
    const message = [`${error.message} [${error.code}]`, ...details].join("; ");
    return new ApiRequestError(status, error.code, message, error.details);
  } catch {
    return new ApiRequestError(status, "UNKNOWN", `HTTP ${status}: ${body.slice(0, 200)}`);
  }
}

/** A small typed client for /api/v1 over HTTPS (trusting the controller CA) or plain HTTP. */
export class ApiClient {
  readonly #options: ApiClientOptions;

  constructor(options: ApiClientOptions) {
    this.#options = options;
  }

  get<T>(path: string): Promise<T> {
    return this.#call<T>("GET", path);
  }

  patch<T>(path: string, body: object): Promise<T> {
    return this.#call<T>("PATCH", path, body);
  }

  /** `headers` carries e.g. an Idempotency-Key; the token and content type are set here. */
  post<T>(path: string, body: object, headers: Record<string, string> = {}): Promise<T> {
    return this.#call<T>("POST", path, body, headers);
  }

  delete<T>(path: string): Promise<T> {
    return this.#call<T>("DELETE", path);
  }

  async #call<T>(
    method: string,
    path: string,
    body?: object,
    extraHeaders: Record<string, string> = {},
  ): Promise<T> {
    const url = new URL(`/api/v1${path}`, this.#options.url);
    const response = await this.#send(method, url, body, extraHeaders);
    if (response.status >= 400) throw describeFailure(response.status, response.body);
    return (response.body ? JSON.parse(response.body) : undefined) as T;
  }

  #send(
    method: string,
    url: URL,
    body: object | undefined,
    extraHeaders: Record<string, string>,
  ): Promise<RawResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {
      ...extraHeaders,
      authorization: `Bearer ${this.#options.token}`,
    };
    if (payload !== undefined) headers["content-type"] = "application/json";
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        url,
        { method, headers, ...(this.#options.caPem ? { ca: this.#options.caPem } : {}) },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            text += chunk;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.setTimeout(this.#options.timeoutMs ?? 30_000, () => req.destroy(new Error("timed out")));
      req.on("error", (err) =>
        reject(new ApiUnreachableError(`cannot reach the API at ${url.origin}: ${err.message}`)),
      );
      req.end(payload);
    });
  }
}
