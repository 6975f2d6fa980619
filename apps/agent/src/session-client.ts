import { EventEmitter } from "node:events";
import { create } from "@bufbuild/protobuf";
import { durationMs, timestampMs, timestampNow } from "@bufbuild/protobuf/wkt";
import type * as grpc from "@grpc/grpc-js";
import type { Logger } from "@pwdr/logging";
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
import type { AgentIdentity } from "./agent-identity.js";
import { backoffDelayMs } from "./backoff.js";
import { collectHostFacts } from "./host-facts.js";

export interface SessionClientOptions {
  identity: AgentIdentity;
  dataDir: string;
  labels?: Record<string, string>;
  sources?: DiscoveredSource[];
  log: Logger;
}

type Stream = ReturnType<ServiceClient<(typeof AgentSessionService)["method"]>["session"]>;

/**
 * Holds the agent's one session with the controller: Hello, heartbeats at the
 * interval the controller asks for, and reconnects with backoff and jitter.
 * Emits "welcome" (Welcome), "message" (ControllerMessage) and "disconnected"
 * ({ code, details }).
 */
export class SessionClient extends EventEmitter {
  readonly #client: ServiceClient<(typeof AgentSessionService)["method"]>;
  #stream: Stream | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #attempt = 0;
  #stopped = false;

  constructor(private readonly options: SessionClientOptions) {
    super();
    const { identity } = options;
    this.#client = createClient(
      AgentSessionService,
      identity.sessionAddress,
      clientCredentials({ caPem: identity.caPem, identity: identity.tls }),
      controllerChannelOptions(),
    );
  }

  start(): void {
    this.#stopped = false;
    void this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    clearInterval(this.#heartbeat);
    this.#stream?.cancel();
    this.#client.grpcClient.close();
  }

  async #connect(): Promise<void> {
    const facts = await collectHostFacts(this.options.dataDir, this.options.labels);
    if (this.#stopped) return;
    const stream = this.#client.session();
    this.#stream = stream;
    stream.on("data", (message: ControllerMessage) => this.#receive(message));
    stream.on("error", (err: grpc.ServiceError) => this.#lost(stream, err.code, err.details));
    stream.on("end", () => this.#lost(stream, 0, "stream ended"));
    stream.write(
      create(AgentMessageSchema, {
        body: { case: "hello", value: { facts, sources: this.options.sources ?? [] } },
      }),
    );
  }

  #receive(message: ControllerMessage): void {
    if (message.body.case === "welcome") this.#welcomed(message.body.value);
    this.emit("message", message);
  }

  #welcomed(welcome: Welcome): void {
    this.#attempt = 0;
    const interval = welcome.heartbeatInterval ? durationMs(welcome.heartbeatInterval) : 10_000;
    clearInterval(this.#heartbeat);
    this.#heartbeat = setInterval(() => this.#beat(), interval);
    this.options.log.info("connected to controller", {
      host: welcome.hostName,
      sessionId: welcome.sessionId,
      serverTime: welcome.serverTime ? new Date(timestampMs(welcome.serverTime)).toISOString() : undefined,
    });
    this.emit("welcome", welcome);
  }

  #beat(): void {
    this.#stream?.write(
      create(AgentMessageSchema, { body: { case: "heartbeat", value: { sentAt: timestampNow() } } }),
    );
  }

  #lost(stream: Stream, code: number, details: string): void {
    if (stream !== this.#stream) return;
    this.#stream = undefined;
    clearInterval(this.#heartbeat);
    this.emit("disconnected", { code, details });
    if (this.#stopped) return;
    const delay = backoffDelayMs(this.#attempt++);
    this.options.log.warn("controller session lost; reconnecting", { code, details, retryInMs: delay });
    this.#retry = setTimeout(() => void this.#connect(), delay);
  }
}
