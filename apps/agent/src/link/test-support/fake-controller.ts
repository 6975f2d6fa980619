import { create, type MessageInitShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  type AgentMessage,
  AgentSessionService,
  AgentStorageService,
  addService,
  type ControllerMessage,
  ControllerMessageSchema,
  GetRepositoryAccessResponseSchema,
  peerIdentity,
  serverCredentials,
  type TlsIdentity,
} from "@pwdr/protocol";
import { type RunningStorageServer, startStorageServer } from "@pwdr/storage";

type Body = NonNullable<MessageInitShape<typeof ControllerMessageSchema>["body"]>;
type Call = grpc.ServerDuplexStream<AgentMessage, ControllerMessage>;

/** Repositories the fake stores, by name (a host id): their directory and password. */
export type StoredRepositories = Record<string, { dir: string; password: string }>;

/**
 * The controller's side, as small as the tests need: a real grpc-js server
 * over mutual TLS that welcomes agents (host id = certificate common name),
 * records what they send and acknowledges results only when told to; with
 * `repositories`, also GetRepositoryAccess and a real storage server, where a
 * host reaches its own repository and another host's only while granted
 * (as the controller does for a DR run's replacement).
 */
export class FakeController {
  readonly received: { message: AgentMessage; session: number; host: string }[] = [];
  ackResults = false;
  /** "reader>repository" pairs: reads of another host's repository the controller would grant. */
  readonly grants = new Set<string>();
  #server: grpc.Server | undefined;
  #storage: RunningStorageServer | undefined;
  #calls = new Map<string, Call>();
  #sessions = 0;
  #waiters: (() => void)[] = [];

  constructor(
    private readonly pki: { caPem: string; identity: TlsIdentity },
    public port = 0,
    private readonly repositories?: StoredRepositories,
  ) {}

  async start(): Promise<void> {
    const server = new grpc.Server();
    addService(server, AgentSessionService, { session: (call: Call) => this.#session(call) });
    if (this.repositories) {
      const repositories = this.repositories;
      this.#storage ??= await startStorageServer({
        ca: this.pki.caPem,
        cert: this.pki.identity.certPem,
        key: this.pki.identity.keyPem,
        host: "127.0.0.1",
        repositories: Object.fromEntries(Object.entries(repositories).map(([name, r]) => [name, r.dir])),
        authorize: ({ identity, repository }) =>
          this.#mayRead(identity.commonName, repository) ? "append" : undefined,
      });
      addService(server, AgentStorageService, {
        getRepositoryAccess: (call, callback) => {
          const caller = peerIdentity(call)?.commonName ?? "";
          const name = call.request.repository || caller;
          const stored = repositories[name];
          if (!stored || !this.#mayRead(caller, name)) {
            const error = Object.assign(new Error(`${caller} may not read ${name}`), {
              code: grpc.status.PERMISSION_DENIED,
              details: `no disaster-recovery run restores ${name} onto ${caller}`,
            });
            return callback(error);
          }
          callback(
            null,
            create(GetRepositoryAccessResponseSchema, {
              storagePort: this.#storage?.port ?? 0,
              repository: name,
              password: stored.password,
            }),
          );
        },
      });
    }
    const credentials = serverCredentials({ ...this.pki, requireClientCertificate: true });
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${this.port}`, credentials, (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );
    this.#server = server;
  }

  async stop(): Promise<void> {
    this.#server?.forceShutdown();
    this.#server = undefined;
    this.#calls.clear();
    await this.#storage?.close();
    this.#storage = undefined;
  }

  /** Ends the current streams as a controller restart or a network cut would. */
  dropSession(): void {
    for (const call of this.#calls.values()) call.end();
    this.#calls.clear();
  }

  /** To the only connected agent, or to `host`. */
  send(body: Body, host?: string): void {
    const call = host ? this.#calls.get(host) : [...this.#calls.values()].at(-1);
    if (!call) throw new Error(`no agent session${host ? ` of ${host}` : ""}`);
    call.write(create(ControllerMessageSchema, { body }));
  }

  /** Whether `host` has a welcomed session now. */
  connected(host: string): boolean {
    return this.#calls.has(host);
  }

  get sessions(): number {
    return this.#sessions;
  }

  async waitFor<T>(find: () => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = find();
      if (found !== undefined && found !== false) return found;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  /** Messages of one body kind, in arrival order. */
  of<K extends NonNullable<AgentMessage["body"]["case"]>>(kind: K, since = 0) {
    return this.received.slice(since).flatMap(({ message, session, host }) =>
      message.body.case === kind
        ? [
            {
              value: message.body.value as Extract<AgentMessage["body"], { case: K }>["value"],
              session,
              host,
            },
          ]
        : [],
    );
  }

  #mayRead(caller: string, repository: string): boolean {
    return caller === repository || this.grants.has(`${caller}>${repository}`);
  }

  #session(call: Call): void {
    const host = peerIdentity(call)?.commonName ?? "";
    const session = ++this.#sessions;
    call.on("data", (message: AgentMessage) => {
      this.received.push({ message, session, host });
      if (message.body.case === "hello") {
        this.#calls.set(host, call);
        this.send(
          {
            case: "welcome",
            value: {
              hostId: host,
              hostName: host,
              sessionId: `s${session}`,
              heartbeatInterval: { seconds: 1n },
            },
          },
          host,
        );
      }
      if (message.body.case === "result" && this.ackResults)
        call.write(
          create(ControllerMessageSchema, {
            body: { case: "resultAck", value: { runId: message.body.value.runId } },
          }),
        );
      for (const wake of this.#waiters.splice(0)) wake();
    });
    call.on("error", () => {});
    call.on("end", () => call.end());
  }
}
