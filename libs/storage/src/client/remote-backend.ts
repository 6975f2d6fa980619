import type { OutgoingHttpHeaders } from "node:http2";
import type { Backend, FileHandle, FileInfo, FileType } from "@pwdr/repo";
import { RepoError } from "@pwdr/repo";
import { rangeHeader } from "../protocol/range-header.js";
import { filePath, isRepositoryName, listPath, repositoryPath } from "../protocol/routes.js";
import { errorFromResponse } from "../protocol/wire-errors.js";
import { CUT_OFF, Http2Connection, type Response, type TlsClientOptions } from "./http2-connection.js";

export interface RemoteBackendOptions extends TlsClientOptions {
  /** The storage server, `https://host:port`. */
  url: string;
  /** Repository name on that server. */
  repository: string;
  /** A request with no progress for this long fails as backend_unavailable. Default 2 minutes. */
  timeoutMs?: number;
  /**
   * How long a request that could not reach the server (connection refused or
   * cut) is tried again, with backoff, before it fails as backend_unavailable:
   * a controller restart then pauses a backup instead of failing it. Every
   * request is safe to repeat (files are named by their content, and the same
   * content again is a no-op). Default 1 minute; 0 tries once.
   */
  retryWindowMs?: number;
}

// Failures of the connection itself; a TLS refusal (wrong CA, revoked
// certificate) is an answer, and repeating it would only delay the error.
const TRANSIENT_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ERR_HTTP2_GOAWAY_SESSION",
  CUT_OFF,
]);

function transient(err: unknown): boolean {
  for (let e = err as { cause?: unknown; code?: string } | undefined; e; e = e.cause as typeof e) {
    if (TRANSIENT_CODES.has(e.code ?? "")) return true;
  }
  return false;
}

const FIRST_RETRY_DELAY_MS = 250;
const MAX_RETRY_DELAY_MS = 8_000;

function originOf(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RepoError("invalid_argument", `storage URL "${url}" is not a URL; expected https://host:port`);
  }
  if (parsed.protocol !== "https:" || parsed.pathname !== "/" || parsed.search || parsed.username) {
    throw new RepoError(
      "invalid_argument",
      `storage URL "${url}" must be https://host:port with nothing after it`,
    );
  }
  return parsed.origin;
}

function isListing(value: unknown): value is { files: FileInfo[] } {
  if (typeof value !== "object" || value === null) return false;
  const files = (value as { files?: unknown }).files;
  return (
    Array.isArray(files) &&
    files.every(
      (f: { name?: unknown; size?: unknown }) => typeof f.name === "string" && Number.isSafeInteger(f.size),
    )
  );
}

/** A repository on the controller's storage server, over HTTP/2 with mutual TLS (docs/storage-server.md). */
export class RemoteBackend implements Backend {
  readonly location: string;
  readonly #repository: string;
  readonly #connection: Http2Connection;
  readonly #retryWindowMs: number;

  constructor(options: RemoteBackendOptions) {
    const origin = originOf(options.url);
    if (!isRepositoryName(options.repository)) {
      throw new RepoError("invalid_argument", `"${options.repository}" is not a valid repository name`);
    }
    this.#repository = options.repository;
    this.location = `remote:${origin}/${options.repository}`;
    this.#connection = new Http2Connection(origin, options, options.timeoutMs ?? 120_000);
    this.#retryWindowMs = options.retryWindowMs ?? 60_000;
  }

  /**
   * Sends one request; error answers become the RepoError the server raised
   * (a HEAD 404 is an answer, not an error). A DELETE answered 404 after a
   * cut-off attempt had already removed the file.
   */
  async #call(headers: OutgoingHttpHeaders, body?: readonly Uint8Array[]): Promise<Response> {
    const { response, retried } = await this.#send(headers, body);
    const missing = response.status === 404;
    const method = headers[":method"];
    if (response.status >= 400 && !(missing && (method === "HEAD" || (method === "DELETE" && retried)))) {
      throw errorFromResponse(response.status, response.body, this.location);
    }
    return response;
  }

  async #send(
    headers: OutgoingHttpHeaders,
    body?: readonly Uint8Array[],
  ): Promise<{ response: Response; retried: boolean }> {
    const giveUpAt = Date.now() + this.#retryWindowMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return { response: await this.#connection.request(headers, body), retried: attempt > 0 };
      } catch (err) {
        const delay = Math.min(FIRST_RETRY_DELAY_MS * 2 ** attempt, MAX_RETRY_DELAY_MS);
        if (!transient(err) || Date.now() + delay > giveUpAt) throw err;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  #path(handle: FileHandle): string {
    if (handle.type === "config" ? handle.name !== "config" : !/^[0-9a-f]{64}$/.test(handle.name)) {
      throw new RepoError("invalid_argument", `"${handle.name}" is not a valid ${handle.type} file name`);
    }
    return filePath(this.#repository, handle);
  }

  async create(): Promise<void> {
    await this.#call({ ":method": "POST", ":path": repositoryPath(this.#repository) });
  }

  async save(handle: FileHandle, data: Uint8Array | readonly Uint8Array[]): Promise<void> {
    const body = data instanceof Uint8Array ? [data] : data;
    const length = body.reduce((n, part) => n + part.byteLength, 0);
    await this.#call({ ":method": "PUT", ":path": this.#path(handle), "content-length": length }, body);
  }

  async load(handle: FileHandle, range?: { offset: number; length: number }): Promise<Buffer> {
    const headers = { ":method": "GET", ":path": this.#path(handle) };
    const { body } = await this.#call(range ? { ...headers, range: rangeHeader(range) } : headers);
    return body;
  }

  async stat(handle: FileHandle): Promise<FileInfo | undefined> {
    const response = await this.#call({ ":method": "HEAD", ":path": this.#path(handle) });
    if (response.status === 404) return undefined;
    return { name: handle.name, size: response.length ?? 0 };
  }

  async *list(type: FileType): AsyncIterable<FileInfo> {
    const { body } = await this.#call({ ":method": "GET", ":path": listPath(this.#repository, type) });
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      parsed = undefined;
    }
    if (!isListing(parsed))
      throw new RepoError("backend_unavailable", `${this.location} sent a malformed listing`);
    yield* parsed.files;
  }

  async remove(handle: FileHandle): Promise<void> {
    await this.#call({ ":method": "DELETE", ":path": this.#path(handle) });
  }

  /** Closes the connection; the next call opens a new one. */
  async close(): Promise<void> {
    this.#connection.close();
  }
}
