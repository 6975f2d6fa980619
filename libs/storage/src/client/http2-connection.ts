import { type ClientHttp2Session, connect, type OutgoingHttpHeaders } from "node:http2";
import { RepoError } from "@pwdr/repo";
import { TRANSPORT_SETTINGS } from "../protocol/transport-settings.js";

/** The code of a request the server stopped answering mid-way (see #cutOff). */
export const CUT_OFF = "PWDR_STREAM_CUT_OFF";

export interface TlsClientOptions {
  /** PEM of the one CA trusted for the server (system roots are not). */
  ca: string;
  cert: string;
  key: string;
  /** Name to verify in the server certificate when it differs from the URL's host (e.g. "pwdr-controller"). */
  servername?: string;
}

export interface Response {
  status: number;
  /** The content-length header, when the server sent one (HEAD answers carry the file size). */
  length: number | undefined;
  body: Buffer;
}

/**
 * One HTTP/2 session to the storage server, opened on first use and again
 * after it drops; every request multiplexes over it. The session keeps the
 * process alive only while requests are in flight.
 */
export class Http2Connection {
  #session: ClientHttp2Session | undefined;
  #inFlight = 0;
  readonly #sessionErrors = new WeakMap<ClientHttp2Session, Error>();

  constructor(
    private readonly origin: string,
    private readonly tls: TlsClientOptions,
    private readonly timeoutMs: number,
  ) {}

  #open(): ClientHttp2Session {
    if (this.#session && !this.#session.closed && !this.#session.destroyed) return this.#session;
    const session = connect(this.origin, {
      ca: this.tls.ca,
      cert: this.tls.cert,
      key: this.tls.key,
      ...(this.tls.servername ? { servername: this.tls.servername } : {}),
      minVersion: "TLSv1.3",
      settings: TRANSPORT_SETTINGS.settings,
      maxSessionMemory: TRANSPORT_SETTINGS.maxSessionMemory,
    });
    session.on("connect", () => session.setLocalWindowSize(TRANSPORT_SETTINGS.connectionWindow));
    // Errors reach the requests through their streams (a stream cut off by the session's
    // end carries it as the cause); a dropped session is replaced on next use.
    session.on("error", (err) => this.#sessionErrors.set(session, err));
    session.on("close", () => {
      if (this.#session === session) this.#session = undefined;
    });
    this.#session = session;
    return session;
  }

  async request(headers: OutgoingHttpHeaders, body?: readonly Uint8Array[]): Promise<Response> {
    const session = this.#open();
    this.#inFlight++;
    session.ref();
    try {
      return await this.#exchange(session, headers, body);
    } catch (err) {
      throw new RepoError(
        "backend_unavailable",
        `cannot reach the storage server at ${this.origin}: ${(err as Error).message}; it is retried on the next attempt`,
        { cause: err },
      );
    } finally {
      if (--this.#inFlight === 0 && !session.destroyed) session.unref();
    }
  }

  #exchange(
    session: ClientHttp2Session,
    headers: OutgoingHttpHeaders,
    body?: readonly Uint8Array[],
  ): Promise<Response> {
    return new Promise((resolve, reject) => {
      const stream = session.request(headers, { endStream: body === undefined });
      const parts: Buffer[] = [];
      let status = 0;
      let length: number | undefined;
      let timedOut = false;
      stream.setTimeout(this.timeoutMs, () => {
        timedOut = true;
        stream.close();
      });
      stream.on("response", (h) => {
        status = Number(h[":status"]);
        length = h["content-length"] === undefined ? undefined : Number(h["content-length"]);
      });
      stream.on("data", (chunk: Buffer) => parts.push(chunk));
      // A session torn down by a TLS alert ends its streams without an answer (status 0): that is a failure.
      stream.on("end", () => {
        if (status) resolve({ status, length, body: Buffer.concat(parts) });
      });
      // A server that refuses an upload early answers and resets the stream; the answer counts.
      stream.on("close", () => {
        if (status) resolve({ status, length, body: Buffer.concat(parts) });
        else if (timedOut) reject(new Error(`no progress for ${this.timeoutMs} ms`));
        else reject(this.#cutOff(session, stream.rstCode));
      });
      stream.on("error", (err) => (status ? undefined : reject(err)));
      if (body) {
        for (const part of body) stream.write(part);
        stream.end();
      }
    });
  }

  /**
   * A stream that closed without an answer. With no session error (the server
   * went away mid-request) it is marked CUT_OFF, which callers may repeat; a
   * session torn down by a TLS alert carries that error instead, and is not.
   */
  #cutOff(session: ClientHttp2Session, rstCode: number): Error {
    const cause = this.#sessionErrors.get(session);
    const err = new Error(`the request was cut off (HTTP/2 code ${rstCode})`, cause ? { cause } : {});
    if (!cause) Object.assign(err, { code: CUT_OFF });
    return err;
  }

  close(): void {
    this.#session?.close();
    this.#session = undefined;
  }
}
