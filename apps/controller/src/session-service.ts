import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromDate, timestampNow } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import type { Catalog } from "@pwdr/catalog";
import type { Logger } from "@pwdr/logging";
import {
  type AgentMessage,
  type AgentSessionService,
  ControllerMessageSchema,
  type Hello,
  type JobResult,
  peerIdentity,
  type RequestOf,
  type ResponseInitOf,
  type ServiceImplementation,
} from "@pwdr/protocol";
import { type CertificateRefusal, checkAgentCertificate, isRefusal } from "./agent-certificates.js";
import { type RenewalDeps, renewAgentCertificate } from "./certificate-renewal.js";
import { RpcError } from "./grpc-errors.js";
import type { JobResults } from "./jobs/job-results.js";
import type {
  ControllerMessageBody,
  LiveSession,
  SessionHooks,
  SessionRegistry,
} from "./session-registry.js";

export interface SessionDeps extends RenewalDeps {
  db: Catalog;
  sessions: SessionRegistry;
  heartbeatIntervalMs: number;
  /** Records job acceptances, progress and results. */
  jobs: JobResults;
  log: Logger;
  /** The fleet scheduler's reactions to a session's Hello and end. */
  hooks?: SessionHooks;
}

type SessionMethod = (typeof AgentSessionService)["method"]["session"];
type SessionCall = grpc.ServerDuplexStream<RequestOf<SessionMethod>, ResponseInitOf<SessionMethod>>;

interface SessionPeer {
  hostId: string;
  /** The certificate this stream was opened with; checked again on every heartbeat. */
  fingerprintSha256: string;
}

/** Looks up the certificate TLS verified; returns the host it belongs to, or a refusal. */
async function authenticate(db: Catalog, call: SessionCall): Promise<SessionPeer | CertificateRefusal> {
  const peer = peerIdentity(call);
  if (!peer)
    return { code: grpc.status.UNAUTHENTICATED, reason: "no client certificate; enroll the agent first" };
  const check = await checkAgentCertificate(db, peer.fingerprintSha256);
  if (isRefusal(check)) return check;
  return { hostId: check.hostId, fingerprintSha256: peer.fingerprintSha256 };
}

class AgentSession implements LiveSession {
  readonly sessionId = randomUUID();
  #greeted = false;
  #closed = false;
  #renewed = false;

  readonly hostId: string;

  constructor(
    private readonly peer: SessionPeer,
    private readonly call: SessionCall,
    private readonly deps: SessionDeps,
  ) {
    this.hostId = peer.hostId;
  }

  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.call.emit("error", { code, details: reason });
  }

  send(message: ControllerMessageBody): boolean {
    if (this.#closed) return false;
    this.call.write(create(ControllerMessageSchema, { body: message }));
    return true;
  }

  async receive(message: AgentMessage): Promise<void> {
    const { body } = message;
    if (!this.#greeted) {
      if (body.case !== "hello") {
        this.close(grpc.status.FAILED_PRECONDITION, "the first message of a session must be a Hello");
        return;
      }
      await this.#hello(body.value);
      return;
    }
    if (body.case === "heartbeat") await this.#touch();
    else if (body.case === "renewCertificate") await this.#renew(body.value.csrPem);
    else if (body.case === "accepted") await this.deps.jobs.accepted(this.hostId, body.value);
    else if (body.case === "progress") await this.deps.jobs.progress(this.hostId, body.value);
    else if (body.case === "result") await this.#result(body.value);
    else this.deps.log.debug("session message not handled yet", { hostId: this.hostId, kind: body.case });
  }

  // A refused result is not acknowledged: it stays in the agent's outbox, and
  // the controller log says why.
  async #result(result: JobResult): Promise<void> {
    const outcome = await this.deps.jobs.result(this.hostId, result);
    if (!outcome.recorded) return;
    this.send({ case: "resultAck", value: { runId: outcome.runId } });
    if (!outcome.replay) this.deps.hooks?.dispatchSoon();
  }

  async #hello(hello: Hello): Promise<void> {
    this.#greeted = true;
    const host = await this.deps.db.host.update({
      where: { id: this.hostId },
      data: {
        state: "online",
        lastSeenAt: new Date(),
        agentVersion: hello.facts?.agentVersion ?? null,
        facts: {
          hostname: hello.facts?.hostname ?? "",
          os: hello.facts?.os ?? "",
          arch: hello.facts?.arch ?? "",
          osRelease: hello.facts?.osRelease ?? "",
          diskFreeBytes: Number(hello.facts?.diskFreeBytes ?? 0n),
          diskTotalBytes: Number(hello.facts?.diskTotalBytes ?? 0n),
          sources: hello.sources.map((s) => ({ name: s.name, kind: s.kind, version: s.version })),
        },
      },
    });
    this.deps.sessions.add(this, "replaced by a newer session of the same host", grpc.status.ABORTED);
    this.send({
      case: "welcome",
      value: {
        hostId: host.id,
        hostName: host.name,
        sessionId: this.sessionId,
        heartbeatInterval: durationFromMs(this.deps.heartbeatIntervalMs),
        serverTime: timestampNow(),
      },
    });
    this.deps.log.info("agent session open", { hostId: host.id, host: host.name, sessionId: this.sessionId });
    await this.deps.hooks?.helloed(this, hello);
  }

  // Revocation by this controller ends the stream at once; this check also catches
  // expiry and revocations written by another process (a replica, the local CLI).
  async #touch(): Promise<void> {
    const check = await checkAgentCertificate(this.deps.db, this.peer.fingerprintSha256);
    if (isRefusal(check)) {
      this.close(check.code, check.reason);
      return;
    }
    // A DR take-over moved this certificate to another host: reconnect as that host.
    if (check.hostId !== this.hostId) {
      this.close(grpc.status.UNAVAILABLE, `this certificate now belongs to host ${check.hostId}; reconnect`);
      return;
    }
    // A decommissioned host (a DR replacement that took over another) stays decommissioned.
    await this.deps.db.host.updateMany({
      where: { id: this.hostId, state: { not: "decommissioned" } },
      data: { lastSeenAt: new Date(), state: "online" },
    });
  }

  // Once per stream: the agent reconnects with the new certificate, so a second
  // request on the same stream is a bug or abuse, not a need.
  async #renew(csrPem: string): Promise<void> {
    if (this.#renewed) {
      this.#refuseRenewal("this session renewed its certificate already; reconnect with the new one");
      return;
    }
    let outcome: Awaited<ReturnType<typeof renewAgentCertificate>>;
    try {
      outcome = await renewAgentCertificate(this.deps, this.peer, csrPem);
    } catch (err) {
      if (!(err instanceof RpcError)) throw err;
      this.#refuseRenewal(err.message);
      return;
    }
    if (isRefusal(outcome)) {
      this.close(outcome.code, outcome.reason);
      return;
    }
    this.#renewed = true;
    this.send({
      case: "certificateRenewed",
      value: { certificatePem: outcome.certPem, notAfter: timestampFromDate(outcome.notAfter) },
    });
    this.deps.log.info("agent certificate renewed", {
      hostId: this.hostId,
      serial: outcome.serialNumber,
      notAfter: outcome.notAfter.toISOString(),
    });
  }

  #refuseRenewal(reason: string): void {
    this.deps.log.warn("agent certificate renewal refused", { hostId: this.hostId, reason });
    this.send({ case: "certificateRenewalRefused", value: { reason } });
  }

  async ended(): Promise<void> {
    this.#closed = true;
    if (!this.deps.sessions.remove(this)) return;
    await this.deps.db.host.updateMany({
      where: { id: this.hostId, state: { not: "decommissioned" } },
      data: { state: "offline" },
    });
    this.deps.log.info("agent session closed", { hostId: this.hostId, sessionId: this.sessionId });
    await this.deps.hooks?.ended(this);
  }
}

function serve(deps: SessionDeps, call: SessionCall, peer: SessionPeer): void {
  const { hostId } = peer;
  const session = new AgentSession(peer, call, deps);
  let queue = Promise.resolve();
  const fail = (err: unknown) => {
    deps.log.error("session message failed", { hostId, error: String(err) });
    session.close(grpc.status.INTERNAL, "internal error; see the controller log");
  };
  // Messages are handled one at a time, in order, so a Heartbeat never
  // overtakes the Hello it follows.
  call.on("data", (message: AgentMessage) => {
    queue = queue.then(() => session.receive(message)).catch(fail);
  });
  const end = () => {
    queue = queue.then(() => session.ended()).catch(fail);
  };
  call.on("end", () => {
    end();
    call.end();
  });
  call.on("cancelled", end);
  call.on("error", end);
}

export function sessionHandlers(deps: SessionDeps): ServiceImplementation<typeof AgentSessionService> {
  return {
    session: (call) => {
      authenticate(deps.db, call).then(
        (auth) => {
          if (isRefusal(auth)) {
            deps.log.warn("agent session refused", { peer: call.getPeer(), reason: auth.reason });
            call.emit("error", { code: auth.code, details: auth.reason });
            return;
          }
          serve(deps, call, auth);
        },
        (err: unknown) => {
          deps.log.error("session authentication failed", { error: String(err) });
          call.emit("error", {
            code: grpc.status.INTERNAL,
            details: "internal error; see the controller log",
          });
        },
      );
    },
  };
}
