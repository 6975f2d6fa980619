import { once } from "node:events";
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2Session,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from "node:http2";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { certificateIdentity, type PeerIdentity } from "@pwdr/protocol";
import { RepoError } from "@pwdr/repo";
import { TRANSPORT_SETTINGS } from "../protocol/transport-settings.js";
import type { Authorize } from "./access.js";
import { handleRequest } from "./handle-request.js";
import { respondError } from "./respond.js";
import { type RepositoryDirectories, ServedRepositories } from "./served-repositories.js";

export interface StorageServerOptions {
  /** PEM of the CA whose client certificates are accepted; no other client gets past the handshake. */
  ca: string;
  /** PEM certificate (chain) and key the server presents. */
  cert: string;
  key: string;
  /** Loopback by default: exposing storage is a deliberate choice. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /**
   * Repository name (as clients ask for it) → directory holding that
   * repository: a fixed map, or a lookup (e.g. in the catalog) so hosts
   * enrolled later get theirs without a restart. Undefined: repo_not_found.
   */
  repositories: RepositoryDirectories;
  authorize: Authorize;
  /** Largest file a client may send or read in one range; packs are 4–16 MiB. Default 128 MiB. */
  maxFileBytes?: number;
  /** A request idle for this long is cut off (slow or stuck clients). Default 2 minutes. */
  idleTimeoutMs?: number;
  /** Told about failed and refused requests, refused handshakes and internal errors; never given file contents. */
  onEvent?: (event: StorageServerEvent) => void;
}

export type StorageServerEvent =
  | { kind: "request_failed"; client: string; method: string; path: string; code: string; message: string }
  | { kind: "internal_error"; client: string; method: string; path: string; error: unknown }
  | { kind: "tls_refused"; message: string };

export interface RunningStorageServer {
  /** `https://host:port`, for RemoteBackend's `url`. */
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

const DEFAULT_MAX_FILE_BYTES = 128 * 1024 * 1024;
const MAX_STREAMS_PER_CLIENT = 16;

// A listener that throws must not take the server down with an unhandled rejection.
function quietly(listener: ((event: StorageServerEvent) => void) | undefined) {
  return (event: StorageServerEvent) => {
    try {
      listener?.(event);
    } catch {}
  };
}

// The client certificate cannot change within a TLS session: parsed once per session, not per request.
const peers = new WeakMap<Http2Session, PeerIdentity | undefined>();

function peerOf(stream: ServerHttp2Stream): PeerIdentity | undefined {
  const session = stream.session;
  if (!session) return undefined;
  if (peers.has(session)) return peers.get(session);
  const raw = (session.socket as TLSSocket | undefined)?.getPeerCertificate()?.raw;
  const identity = raw ? certificateIdentity(raw) : undefined;
  peers.set(session, identity);
  return identity;
}

/**
 * Serves repositories to agents over HTTP/2 with mutual TLS (HTTP/2 carried
 * pack-sized files faster and with less CPU than gRPC: BENCHMARKS.md, issue 6).
 * Protocol and access rules: docs/storage-server.md.
 */
export async function startStorageServer(options: StorageServerOptions): Promise<RunningStorageServer> {
  const served = new ServedRepositories(options.repositories);
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const idleTimeoutMs = options.idleTimeoutMs ?? 120_000;
  const emit = quietly(options.onEvent);
  const sessions = new Set<ServerHttp2Session>();
  const server = createSecureServer({
    ca: options.ca,
    cert: options.cert,
    key: options.key,
    requestCert: true,
    rejectUnauthorized: true,
    allowHTTP1: false,
    minVersion: "TLSv1.3",
    // Each upload is held in memory until it is complete (up to maxFileBytes),
    // so one client may only have a few in flight.
    settings: { ...TRANSPORT_SETTINGS.settings, maxConcurrentStreams: MAX_STREAMS_PER_CLIENT },
    maxSessionMemory: TRANSPORT_SETTINGS.maxSessionMemory,
  });
  server.on("session", (session) => {
    session.setLocalWindowSize(TRANSPORT_SETTINGS.connectionWindow);
    session.on("error", () => {});
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  server.on("tlsClientError", (err) => emit({ kind: "tls_refused", message: err.message }));
  server.on("stream", (stream, headers) => {
    stream.on("error", () => {});
    stream.setTimeout(idleTimeoutMs, () => stream.close());
    const identity = peerOf(stream);
    const method = String(headers[":method"]);
    const path = String(headers[":path"]).slice(0, 200);
    if (!identity) {
      respondError(
        stream,
        new RepoError("access_denied", "a client certificate is required"),
        method === "HEAD",
      );
      return;
    }
    handleRequest({
      stream,
      headers,
      identity,
      maxFileBytes,
      access: async (repository) => options.authorize({ identity, repository }),
      repository: (name) => served.get(name),
    }).catch((err: unknown) => {
      const known = respondError(stream, err, method === "HEAD");
      const client = identity.commonName;
      if (known) {
        const { code, message } = err as RepoError;
        emit({ kind: "request_failed", client, method, path, code, message });
      } else {
        emit({ kind: "internal_error", client, method, path, error: err });
      }
      if (!stream.closed) stream.close();
    });
  });
  return listen(server, options.host ?? "127.0.0.1", options.port ?? 0, { served, sessions });
}

async function listen(
  server: Http2SecureServer,
  host: string,
  port: number,
  open: { served: ServedRepositories; sessions: Set<ServerHttp2Session> },
): Promise<RunningStorageServer> {
  server.listen(port, host);
  await Promise.race([once(server, "listening"), once(server, "error").then(([err]) => Promise.reject(err))]);
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `https://${host.includes(":") ? `[${host}]` : host}:${bound}`,
    host,
    port: bound,
    async close() {
      const closed = new Promise<void>((done) => server.close(() => done()));
      for (const session of open.sessions) session.close();
      await closed;
      await open.served.closeAll();
    },
  };
}
