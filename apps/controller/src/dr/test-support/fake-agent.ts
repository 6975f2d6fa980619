// A test agent over a real mutual-TLS session that answers DR jobs the way
// the fleet job contract says: JobAccepted, then a JobResult; a job it
// finished already is answered with the stored result, never run again.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type * as grpc from "@grpc/grpc-js";
import {
  AgentMessageSchema,
  AgentSessionService,
  type ControllerMessage,
  clientCredentials,
  controllerChannelOptions,
  createClient,
  type Job,
  type JobResult,
  JobResultSchema,
  JobState,
  SourceKind,
} from "@pwdr/protocol";
import type { RunningController } from "../../controller-server.js";
import { type EnrolledTestHost, enrollTestHost } from "../../test-support/test-agent.js";

export type Enrolled = EnrolledTestHost;

export function enrollHost(controller: RunningController, hostname: string): Promise<Enrolled> {
  return enrollTestHost(controller, hostname);
}

/** What the agent does with a job: a final state and the details it reports. */
export type JobAnswer = (job: Job) => { state: JobState; details?: object; message?: string };

export const succeed: JobAnswer = () => ({ state: JobState.SUCCEEDED, details: { restoreMs: 1200 } });

export interface FakeAgentOptions {
  hostname: string;
  diskFreeBytes?: number;
  sources?: { name: string; kind: SourceKind; version: string }[];
  answer?: JobAnswer;
  /** Jobs are accepted but not answered until release() (a job in flight). */
  hold?: boolean;
}

export class FakeAgent {
  /** Every job message received, re-deliveries included. */
  readonly jobs: Job[] = [];
  /** Job ids it actually ran (each at most once per attempt). */
  readonly ran: string[] = [];
  readonly welcomes: string[] = [];
  readonly cancels: string[] = [];
  readonly #results = new Map<string, JobResult>();
  readonly #held: Job[] = [];
  #stream: grpc.ClientDuplexStream<unknown, ControllerMessage> | undefined;
  #client: { grpcClient: grpc.Client } | undefined;
  #hold: boolean;
  /** Resolves when the current stream ends. */
  ended: Promise<void> = Promise.resolve();

  constructor(
    readonly enrolled: Enrolled,
    private readonly options: FakeAgentOptions,
  ) {
    this.#hold = options.hold ?? false;
  }

  connect(controller: RunningController): void {
    const client = createClient(
      AgentSessionService,
      controller.sessionAddress,
      clientCredentials({ caPem: controller.pki.ca.certPem, identity: this.enrolled.identity }),
      controllerChannelOptions(),
    );
    const stream = client.session();
    this.#client = client;
    this.#stream = stream as never;
    this.ended = new Promise((done) => {
      stream.on("error", () => done());
      stream.on("end", () => done());
    });
    stream.on("data", (m: ControllerMessage) => this.#receive(m));
    this.#send({
      case: "hello",
      value: {
        facts: {
          hostname: this.options.hostname,
          diskFreeBytes: BigInt(this.options.diskFreeBytes ?? 10 ** 10),
        },
        sources: this.options.sources ?? [],
        runningJobIds: this.#held.map((j) => j.jobId),
      },
    });
  }

  /** Answers the jobs held so far and stops holding. */
  release(): void {
    this.#hold = false;
    for (const job of this.#held.splice(0)) this.#finish(job);
  }

  disconnect(): void {
    this.#stream?.cancel();
    this.#client?.grpcClient.close();
  }

  #send(body: NonNullable<MessageInitShape<typeof AgentMessageSchema>["body"]>): void {
    this.#stream?.write(create(AgentMessageSchema, { body }));
  }

  #receive(message: ControllerMessage): void {
    const { body } = message;
    if (body.case === "welcome") this.welcomes.push(body.value.hostId);
    else if (body.case === "cancel") this.#cancel(body.value.jobId);
    else if (body.case === "job") this.#job(body.value);
    else if (body.case === "resultAck") this.#results.delete(`ack:${body.value.runId}`);
  }

  #job(job: Job): void {
    this.jobs.push(job);
    const stored = this.#results.get(`${job.jobId}/${job.attempt}`);
    if (stored) {
      this.#send({ case: "result", value: stored });
      return;
    }
    if (this.#held.some((j) => j.jobId === job.jobId)) {
      this.#send({ case: "accepted", value: { jobId: job.jobId, runId: runIdOf(job) } });
      return;
    }
    this.ran.push(job.jobId);
    this.#send({ case: "accepted", value: { jobId: job.jobId, runId: runIdOf(job) } });
    if (this.#hold) this.#held.push(job);
    else this.#finish(job);
  }

  #cancel(jobId: string): void {
    this.cancels.push(jobId);
    const at = this.#held.findIndex((j) => j.jobId === jobId);
    if (at < 0) return;
    const [job] = this.#held.splice(at, 1);
    if (job) this.#result(job, { state: JobState.CANCELLED, message: "cancelled" });
  }

  #finish(job: Job): void {
    this.#result(job, (this.options.answer ?? succeed)(job));
  }

  #result(job: Job, answer: ReturnType<JobAnswer>): void {
    const failed = answer.state !== JobState.SUCCEEDED;
    const result = create(JobResultSchema, {
      jobId: job.jobId,
      runId: runIdOf(job),
      state: answer.state,
      startedAt: timestampNow(),
      finishedAt: timestampNow(),
      kind: KIND_OF_SPEC[job.spec.case ?? ""] ?? "",
      detailsJson: JSON.stringify(answer.details ?? {}),
      ...(failed
        ? { error: { code: "test_failure", message: answer.message ?? "failed", retryable: false } }
        : {}),
    });
    this.#results.set(`${job.jobId}/${job.attempt}`, result);
    this.#send({ case: "result", value: result });
  }
}

const KIND_OF_SPEC: Record<string, string> = {
  restore: "restore",
  serviceAction: "service",
  healthCheck: "health",
  command: "command",
  drill: "drill",
};

function runIdOf(job: Job): string {
  return `run-${job.jobId}-${job.attempt}`;
}

export { JobState, SourceKind };
