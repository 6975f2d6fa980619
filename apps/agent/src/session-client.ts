import { EventEmitter } from "node:events";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { durationMs, timestampMs, timestampNow } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "@pwdr/logging";
import { createKeyAndCsr } from "@pwdr/pki";
import {
  AgentMessageSchema,
  AgentSessionService,
  type ControllerMessage,
  clientCredentials,
  controllerChannelOptions,
  createClient,
  type DiscoveredSource,
  type ServiceClient,
  type Welcome,
} from "@pwdr/protocol";
import { type AgentIdentity, replaceTlsIdentity } from "./agent-identity.js";
import { backoffDelayMs } from "./backoff.js";
import { checkRenewedCertificate, renewalDueAt } from "./certificate-renewal.js";
import { collectHostFacts } from "./host-facts.js";

/** What Hello and every heartbeat report about the agent's work. */
export interface AgentLinkState {
  policyVersion: string;
  runningJobIds: string[];
  outboxPending: number;
}

export interface SessionClientOptions {
  identity: AgentIdentity;
  dataDir: string;
  labels?: Record<string, string>;
  /** Read before each Hello: the sources and where a restore writes (for the disk space reported). */
  inventory?: () => Promise<{ sources: DiscoveredSource[]; restoreTargets: string[] }>;
  /** Read before each Hello and heartbeat; nothing to report when omitted. */
  state?: () => Promise<AgentLinkState>;
  log: Logger;
}

/** Why the session ended for good: the controller no longer accepts this agent's certificate. */
export interface SessionRefusal {
  code: number;
  details: string;
}

type Client = ServiceClient<(typeof AgentSessionService)["method"]>;
type Stream = ReturnType<Client["session"]>;

// Revoked (PERMISSION_DENIED), unknown or expired (UNAUTHENTICATED): retrying with the
// same certificate cannot succeed, only a new enrollment can.
const FINAL_CODES = new Set<number>([grpc.status.PERMISSION_DENIED, grpc.status.UNAUTHENTICATED]);
// setTimeout cannot wait longer than ~24.8 days; far-off renewals are re-checked daily.
const MAX_TIMER_MS = 86_400_000;
const RENEWAL_RETRY_MS = 60_000;

function clientFor(identity: AgentIdentity): Client {
  return createClient(
    AgentSessionService,
    identity.sessionAddress,
    clientCredentials({ caPem: identity.caPem, identity: identity.tls }),
    controllerChannelOptions(),
  );
}

/**
 * Holds the agent's one session with the controller: Hello, heartbeats at the
 * interval the controller asks for, reconnects with backoff and jitter, and
 * certificate renewal before expiry. Emits "welcome" (Welcome), "message"
 * (ControllerMessage), "disconnected" ({ code, details }), "renewed"
 * (AgentIdentity) and "refused" (SessionRefusal) after which it has stopped.
 */
export class SessionClient extends EventEmitter {
  #identity: AgentIdentity;
  #client: Client;
  #stream: Stream | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #renewal: NodeJS.Timeout | undefined;
  /** The key of a renewal in flight; it is written to disk only with its certificate. */
  #pendingKeyPem: string | undefined;
  /** Closes the channel of the previous certificate once the new one is welcomed. */
  #retire: (() => void) | undefined;
  #attempt = 0;
  #stopped = false;
  /** The stream the controller answered with Welcome; messages are sent only on it. */
  #welcomed: Stream | undefined;

  constructor(private readonly options: SessionClientOptions) {
    super();
    this.#identity = options.identity;
    this.#client = clientFor(this.#identity);
  }

  start(): void {
    this.#stopped = false;
    void this.#connect();
  }

  /** True from the Welcome until the stream is lost. */
  get connected(): boolean {
    return this.#welcomed !== undefined && this.#welcomed === this.#stream;
  }

  /** Sends on the welcomed stream; false (nothing sent) while disconnected. */
  send(body: NonNullable<MessageInitShape<typeof AgentMessageSchema>["body"]>): boolean {
    const stream = this.#welcomed;
    if (!stream || stream !== this.#stream) return false;
    stream.write(create(AgentMessageSchema, { body }));
    return true;
  }

  stop(): void {
    this.#stopped = true;
    this.#welcomed = undefined;
    clearTimeout(this.#retry);
    clearTimeout(this.#renewal);
    clearInterval(this.#heartbeat);
    this.#stream?.cancel();
    this.#retireOld();
    this.#client.grpcClient.close();
  }

  async #connect(): Promise<void> {
    const inventory = (await this.options.inventory?.()) ?? { sources: [], restoreTargets: [] };
    const facts = await collectHostFacts(this.options.dataDir, this.options.labels, inventory.restoreTargets);
    const state = await this.#readState();
    if (this.#stopped) return;
    const stream = this.#client.session();
    this.#stream = stream;
    stream.on("data", (message: ControllerMessage) => this.#receive(stream, message));
    stream.on("error", (err: grpc.ServiceError) => this.#lost(stream, err.code, err.details));
    stream.on("end", () => this.#lost(stream, 0, "stream ended"));
    stream.write(
      create(AgentMessageSchema, {
        body: { case: "hello", value: { facts, sources: inventory.sources, ...state } },
      }),
    );
  }

  #receive(stream: Stream, message: ControllerMessage): void {
    if (stream !== this.#stream) return;
    const { body } = message;
    if (body.case === "welcome") this.#onWelcome(stream, body.value);
    else if (body.case === "certificateRenewed") void this.#adopt(body.value.certificatePem);
    else if (body.case === "certificateRenewalRefused") this.#renewalFailed(body.value.reason);
    this.emit("message", message);
  }

  #onWelcome(stream: Stream, welcome: Welcome): void {
    this.#welcomed = stream;
    this.#attempt = 0;
    this.#retireOld();
    const interval = welcome.heartbeatInterval ? durationMs(welcome.heartbeatInterval) : 10_000;
    clearInterval(this.#heartbeat);
    this.#heartbeat = setInterval(() => void this.#beat(), interval);
    this.options.log.info("connected to controller", {
      host: welcome.hostName,
      sessionId: welcome.sessionId,
      serverTime: welcome.serverTime ? new Date(timestampMs(welcome.serverTime)).toISOString() : undefined,
    });
    this.#scheduleRenewal(renewalDueAt(this.#identity.tls.certPem).getTime() - Date.now());
    this.emit("welcome", welcome);
  }

  async #beat(): Promise<void> {
    const stream = this.#stream;
    const state = await this.#readState();
    if (!stream || stream !== this.#stream) return;
    const { runningJobIds = [], outboxPending = 0 } = state ?? {};
    stream.write(
      create(AgentMessageSchema, {
        body: { case: "heartbeat", value: { sentAt: timestampNow(), runningJobIds, outboxPending } },
      }),
    );
  }

  /** What the agent's work looks like now; a failure to read it (an unreadable outbox) must not end the session. */
  async #readState(): Promise<AgentLinkState | undefined> {
    try {
      return await this.options.state?.();
    } catch (err) {
      this.options.log.warn("agent state not reported", { reason: (err as Error).message });
      return undefined;
    }
  }

  #scheduleRenewal(delayMs: number): void {
    clearTimeout(this.#renewal);
    const wait = Math.min(Math.max(0, delayMs), MAX_TIMER_MS);
    this.#renewal = setTimeout(() => {
      const due = renewalDueAt(this.#identity.tls.certPem).getTime() - Date.now();
      if (due > 0) this.#scheduleRenewal(due);
      else void this.#requestRenewal();
    }, wait);
  }

  async #requestRenewal(): Promise<void> {
    const stream = this.#stream;
    if (!stream || this.#pendingKeyPem) return;
    const { keyPem, csrPem } = await createKeyAndCsr({ commonName: "pwdr-agent" });
    if (stream !== this.#stream) return;
    this.#pendingKeyPem = keyPem;
    this.options.log.info("renewing the agent certificate", {
      dueAt: renewalDueAt(this.#identity.tls.certPem).toISOString(),
    });
    stream.write(create(AgentMessageSchema, { body: { case: "renewCertificate", value: { csrPem } } }));
  }

  async #adopt(certPem: string): Promise<void> {
    const keyPem = this.#pendingKeyPem;
    this.#pendingKeyPem = undefined;
    if (!keyPem) return;
    const tls = { certPem, keyPem };
    try {
      checkRenewedCertificate(tls, this.#identity.caPem, this.#identity.hostId);
      await replaceTlsIdentity(this.options.dataDir, tls);
    } catch (err) {
      this.#renewalFailed((err as Error).message);
      return;
    }
    this.#identity = { ...this.#identity, tls };
    this.options.log.info("agent certificate renewed; reconnecting with it");
    this.emit("renewed", this.#identity);
    this.#switchChannel();
  }

  #renewalFailed(reason: string): void {
    this.#pendingKeyPem = undefined;
    this.options.log.warn("certificate renewal failed; will retry", { reason, retryInMs: RENEWAL_RETRY_MS });
    this.#scheduleRenewal(RENEWAL_RETRY_MS);
  }

  // Make before break: the new stream replaces the old one on the controller, so the
  // host never shows offline for a renewal.
  #switchChannel(): void {
    if (this.#stopped) return;
    const old = { client: this.#client, stream: this.#stream };
    this.#retireOld();
    this.#retire = () => {
      old.stream?.cancel();
      old.client.grpcClient.close();
    };
    // From here on the old stream's events are ignored and heartbeats wait for the new one.
    this.#stream = undefined;
    clearInterval(this.#heartbeat);
    this.#client = clientFor(this.#identity);
    void this.#connect();
  }

  #retireOld(): void {
    this.#retire?.();
    this.#retire = undefined;
  }

  #lost(stream: Stream, code: number, details: string): void {
    if (stream !== this.#stream) return;
    this.#stream = undefined;
    this.#pendingKeyPem = undefined;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#renewal);
    this.#retireOld();
    this.emit("disconnected", { code, details });
    if (this.#stopped) return;
    if (FINAL_CODES.has(code)) {
      this.#refused({ code, details });
      return;
    }
    const delay = backoffDelayMs(this.#attempt++);
    this.options.log.warn("controller session lost; reconnecting", { code, details, retryInMs: delay });
    this.#retry = setTimeout(() => void this.#connect(), delay);
  }

  #refused(refusal: SessionRefusal): void {
    this.options.log.error(
      "the controller refused this agent's certificate; not reconnecting. Enroll again with a new token: " +
        "pwdr-agent enroll --controller <host:port> --token <token>",
      { code: refusal.code, details: refusal.details, hostId: this.#identity.hostId },
    );
    this.stop();
    this.emit("refused", refusal);
  }
}
