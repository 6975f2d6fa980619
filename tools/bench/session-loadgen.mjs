// Load generator for session-bench.mjs: simulated agents in one process, each
// with its own client certificate, its own mutual-TLS connection and one
// Session stream: Hello, then a Heartbeat every interval at a random phase.
// A job the controller sends is answered like an agent that finished it at
// once (JobAccepted, then a SUCCEEDED JobResult); its arrival time goes back to
// the parent. Driven over the IPC channel by the parent:
//   open {address, caPem, keyPem, hosts: [{hostId, certPem}], heartbeatMs, concurrency}
//     -> opened {ok, failed, firstError}
//   snapshot -> snapshot {sends: number[][]} (each host's last send times, ms)
//   close -> exits
// and sends job {jobId, at} as jobs arrive, dropped {count} when streams end.
import { randomUUID } from "node:crypto";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import {
  AgentSessionService,
  clientCredentials,
  controllerChannelOptions,
  createClient,
  JobState,
} from "@pwdr/protocol";

const RING = 3;

// One connection per simulated host, as real agents have: no shared
// subchannel pool, and no channelz bookkeeping nobody reads.
const CHANNEL_OPTIONS = controllerChannelOptions({
  "grpc.use_local_subchannel_pool": 1,
  "grpc.enable_channelz": 0,
  "grpc.enable_retries": 0,
});

const agents = [];
let sends; // Float64Array: RING send times per host, newest at (slot % RING)
let sendSlot; // Uint32Array: next slot per host
let dropped = 0;
let heartbeats = 0;

function recordSend(i) {
  sends[i * RING + (sendSlot[i] % RING)] = Date.now();
  sendSlot[i]++;
}

function answerJob(agent, job) {
  process.send({ type: "job", jobId: job.jobId, at: Date.now() });
  const runId = randomUUID();
  agent.stream.write({ body: { case: "accepted", value: { jobId: job.jobId, runId } } });
  const now = timestampNow();
  agent.stream.write({
    body: {
      case: "result",
      value: {
        jobId: job.jobId,
        runId,
        state: JobState.SUCCEEDED,
        startedAt: now,
        finishedAt: now,
        kind: "verify",
        slotKey: job.slotKey,
        detailsJson: "{}",
      },
    },
  });
}

function openOne(i, host, { address, caPem, keyPem, heartbeatMs }) {
  return new Promise((resolve) => {
    const client = createClient(
      AgentSessionService,
      address,
      clientCredentials({ caPem, identity: { certPem: host.certPem, keyPem } }),
      CHANNEL_OPTIONS,
    );
    const stream = client.session();
    const agent = { client, stream, timer: undefined, welcomed: false };
    agents[i] = agent;
    stream.on("data", (m) => {
      if (m.body.case === "welcome" && !agent.welcomed) {
        agent.welcomed = true;
        startHeartbeats(i, agent, heartbeatMs);
        resolve(undefined);
      } else if (m.body.case === "job") answerJob(agent, m.body.value);
    });
    const lost = (err) => {
      clearTimeout(agent.timer);
      clearInterval(agent.timer);
      if (!agent.welcomed) resolve(err?.details ?? "stream ended before Welcome");
      else if (!agent.closing) process.send({ type: "dropped", count: ++dropped, error: err?.details });
    };
    stream.on("error", lost);
    stream.on("end", () => lost(undefined));
    recordSend(i);
    stream.write({
      body: { case: "hello", value: { facts: { hostname: host.hostId, agentVersion: "bench" } } },
    });
  });
}

function startHeartbeats(i, agent, heartbeatMs) {
  const beat = () => {
    recordSend(i);
    heartbeats++;
    agent.stream.write({ body: { case: "heartbeat", value: { sentAt: timestampNow() } } });
  };
  agent.timer = setTimeout(() => {
    beat();
    agent.timer = setInterval(beat, heartbeatMs);
  }, Math.random() * heartbeatMs);
}

async function open(msg) {
  const n = msg.hosts.length;
  sends = new Float64Array(n * RING);
  sendSlot = new Uint32Array(n);
  let next = 0;
  let failed = 0;
  let firstError;
  // A bounded number of handshakes in flight: thousands at once only queue in
  // the kernel and time out.
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const error = await openOne(i, msg.hosts[i], msg);
      if (error !== undefined) {
        failed++;
        firstError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(msg.concurrency, n) }, worker));
  process.send({ type: "opened", ok: n - failed, failed, firstError });
}

function snapshot() {
  const out = [];
  for (let i = 0; i < sendSlot.length; i++) out.push(Array.from(sends.subarray(i * RING, i * RING + RING)));
  process.send({ type: "snapshot", sends: out, heartbeats });
}

function close() {
  for (const a of agents) {
    if (!a) continue;
    a.closing = true;
    clearTimeout(a.timer);
    clearInterval(a.timer);
    a.client.grpcClient.close();
  }
  process.exit(0);
}

process.on("message", (msg) => {
  if (msg.type === "open") open(msg);
  else if (msg.type === "snapshot") snapshot();
  else if (msg.type === "close") close();
});
process.on("disconnect", () => process.exit(0));
