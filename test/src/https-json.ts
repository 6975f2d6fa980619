import { request } from "node:https";

export interface JsonResponse<T = unknown> {
  status: number;
  body: T;
}

/** The REST API as a client sees it: status and parsed body, with the controller's CA pinned. */
export class HttpsJson {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
    readonly caPem: string,
  ) {}

  /** Any request; the caller checks the status (errors included). */
  send<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<JsonResponse<T>> {
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const all: Record<string, string> = { authorization: `Bearer ${this.token}`, ...headers };
    if (payload !== undefined) all["content-type"] ??= "application/json";
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, this.baseUrl), { method, headers: all, ca: this.caPem }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : undefined) as T }),
        );
      });
      req.on("error", reject);
      req.end(payload);
    });
  }

  /** A request that must succeed (2xx); anything else throws with the API's error. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.send<T>(method, path, body);
    if (response.status >= 300)
      throw new Error(`${method} ${path} answered ${response.status}: ${JSON.stringify(response.body)}`);
    return response.body;
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>("GET", path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>("POST", path, body);
  }
}
