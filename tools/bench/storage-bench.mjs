// Fleet storage transport (issue 6): which carries pack-sized files faster
// between an agent and the controller over mutual TLS on loopback, plain
// HTTP/2 (node:http2) or gRPC (@grpc/grpc-js, streamed chunks)? Both
// prototypes store into a LocalBackend on the server side (fsync per file),
// so the local-disk row is the floor of what any transport can reach. The
// gRPC prototype sends raw Buffers (identity serializer, no protobuf), its
// best case. The server runs in a child process, as it would on a controller.
// usage: node --conditions=development --import tsx tools/bench/storage-bench.mjs [--runs 3] [--mib 192]
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import http2 from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { createCertificateAuthority, createKeyAndCsr, issueServerCertificate, signCsr } from "@pwdr/pki";
import { LocalBackend } from "@pwdr/repo";

const CHUNK = 1 << 20;
const WINDOW = 8 << 20;
const FRAME = (1 << 24) - 1;
const SIZES_MIB = [4, 8, 16];
const hexName = () => randomBytes(32).toString("hex");

// ---------- server side (child process) ----------

async function freshBackend() {
  const backend = new LocalBackend(join(mkdtempSync(join(tmpdir(), "pwdr-storage-bench-")), "repo"));
  await backend.create();
  return backend;
}

function collect(stream) {
  return new Promise((ok, fail) => {
    const parts = [];
    stream.on("data", (c) => parts.push(c));
    stream.on("end", () => ok(parts));
    stream.on("error", fail);
  });
}

async function serveHttp2(tls, backend) {
  const server = http2.createSecureServer({
    ...tls,
    requestCert: true,
    rejectUnauthorized: true,
    settings: { initialWindowSize: WINDOW, maxFrameSize: FRAME },
    maxSessionMemory: 64,
  });
  server.on("session", (s) => s.setLocalWindowSize(WINDOW * 4));
  server.on("stream", async (stream, headers) => {
    const handle = { type: "data", name: headers[":path"].slice(1) };
    if (headers[":method"] === "PUT") {
      await backend.save(handle, await collect(stream));
      stream.respond({ ":status": 204 });
      stream.end();
    } else {
      const body = await backend.load(handle);
      stream.respond({ ":status": 200 });
      stream.end(body);
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return server.address().port;
}

const raw = { serialize: (b) => b, deserialize: (b) => b };
const GRPC_SERVICE = {
  upload: {
    path: "/bench.Storage/Upload",
    requestStream: true,
    responseStream: false,
    requestSerialize: raw.serialize,
    requestDeserialize: raw.deserialize,
    responseSerialize: raw.serialize,
    responseDeserialize: raw.deserialize,
  },
  download: {
    path: "/bench.Storage/Download",
    requestStream: false,
    responseStream: true,
    requestSerialize: raw.serialize,
    requestDeserialize: raw.deserialize,
    responseSerialize: raw.serialize,
    responseDeserialize: raw.deserialize,
  },
};

async function serveGrpc(tls, backend) {
  const server = new grpc.Server({ "grpc.max_receive_message_length": 2 * CHUNK });
  server.addService(GRPC_SERVICE, {
    upload: async (call, done) => {
      const name = call.metadata.get("name")[0];
      await backend.save({ type: "data", name }, await collect(call));
      done(null, Buffer.alloc(0));
    },
    download: async (call) => {
      const body = await backend.load({ type: "data", name: call.request.toString() });
      for (let o = 0; o < body.length; o += CHUNK) {
        if (!call.write(body.subarray(o, o + CHUNK))) await once(call, "drain");
      }
      call.end();
    },
  });
  const creds = grpc.ServerCredentials.createSsl(
    Buffer.from(tls.ca),
    [{ private_key: Buffer.from(tls.key), cert_chain: Buffer.from(tls.cert) }],
    true,
  );
  return new Promise((ok, fail) =>
    server.bindAsync("127.0.0.1:0", creds, (err, port) => (err ? fail(err) : ok(port))),
  );
}

// The real server and client, loaded only when asked for.
const storageLib = () => import("@pwdr/storage");

async function serveStorage(tls, backend) {
  const { startStorageServer } = await storageLib();
  const server = await startStorageServer({
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    repositories: { bench: backend.root },
    authorize: () => "admin",
  });
  return server.port;
}

async function serve() {
  const { transport, tls } = await new Promise((ok) => process.once("message", ok));
  const backend = await freshBackend();
  const start = { http2: serveHttp2, grpc: serveGrpc, storage: serveStorage }[transport];
  const port = await start(tls, backend);
  process.send({ port });
  process.on("message", (msg) => {
    if (msg === "cpu") process.send({ cpu: process.cpuUsage() });
    if (msg === "exit") {
      rmSync(join(backend.root, ".."), { recursive: true, force: true });
      process.exit(0);
    }
  });
}

// ---------- client side ----------

function http2Client(port, tls) {
  const session = http2.connect(`https://localhost:${port}`, {
    ...tls,
    settings: { initialWindowSize: WINDOW, maxFrameSize: FRAME },
    maxSessionMemory: 64,
  });
  session.on("connect", () => session.setLocalWindowSize(WINDOW * 4));
  const request = (headers, body) =>
    new Promise((ok, fail) => {
      const req = session.request(headers);
      const parts = [];
      req.on("data", (c) => parts.push(c));
      req.on("end", () => ok(Buffer.concat(parts)));
      req.on("error", fail);
      req.end(body);
    });
  return {
    upload: (name, body) => request({ ":method": "PUT", ":path": `/${name}` }, body),
    download: (name) => request({ ":method": "GET", ":path": `/${name}` }),
    close: () => session.close(),
  };
}

function grpcClient(port, tls) {
  const Client = grpc.makeGenericClientConstructor(GRPC_SERVICE, "Storage");
  const creds = grpc.credentials.createSsl(Buffer.from(tls.ca), Buffer.from(tls.key), Buffer.from(tls.cert));
  const client = new Client(`localhost:${port}`, creds, {
    "grpc-node.flow_control_window": WINDOW,
    "grpc.max_receive_message_length": 2 * CHUNK,
  });
  return {
    upload: (name, body) =>
      new Promise((ok, fail) => {
        const metadata = new grpc.Metadata();
        metadata.set("name", name);
        const call = client.upload(metadata, (err) => (err ? fail(err) : ok()));
        for (let o = 0; o < body.length; o += CHUNK) call.write(body.subarray(o, o + CHUNK));
        call.end();
      }),
    download: (name) => collect(client.download(Buffer.from(name))).then((parts) => Buffer.concat(parts)),
    close: () => client.close(),
  };
}

async function storageClient(port, tls) {
  const { RemoteBackend } = await storageLib();
  const backend = new RemoteBackend({
    url: `https://localhost:${port}`,
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    repository: "bench",
  });
  return {
    upload: (name, body) => backend.save({ type: "data", name }, body),
    download: (name) => backend.load({ type: "data", name }),
    close: () => backend.close(),
  };
}

async function localClient() {
  const backend = await freshBackend();
  return {
    upload: (name, body) => backend.save({ type: "data", name }, body),
    download: (name) => backend.load({ type: "data", name }),
    close: () => rmSync(join(backend.root, ".."), { recursive: true, force: true }),
  };
}

async function startServer(transport, serverTls) {
  const child = fork(import.meta.filename, ["--serve"], {
    execArgv: ["--conditions=development", "--import", "tsx"],
  });
  child.send({ transport, tls: serverTls });
  const [{ port }] = await once(child, "message");
  const cpu = async () => {
    child.send("cpu");
    return (await once(child, "message"))[0].cpu;
  };
  return { port, cpu, stop: () => child.send("exit") };
}

const cpuSeconds = (u) => (u.user + u.system) / 1e6;
const diffCpu = (a, b) => cpuSeconds(b) - cpuSeconds(a);

async function measure(client, server, files, direction) {
  const before = { client: process.cpuUsage(), server: server ? await server.cpu() : undefined };
  const t = performance.now();
  for (const f of files) {
    if (direction === "upload") await client.upload(f.name, f.body);
    else if (!(await client.download(f.name)).equals(f.body))
      throw new Error(`${f.name} came back different`);
  }
  const seconds = (performance.now() - t) / 1000;
  const cpu =
    diffCpu(before.client, process.cpuUsage()) + (server ? diffCpu(before.server, await server.cpu()) : 0);
  return { seconds, cpu };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function runOnce(transport, tls, files) {
  if (transport === "local") {
    const client = await localClient();
    const results = { upload: await measure(client, undefined, files, "upload") };
    results.download = await measure(client, undefined, files, "download");
    client.close();
    return results;
  }
  const server = await startServer(transport, tls.server);
  const make = { http2: http2Client, grpc: grpcClient, storage: storageClient }[transport];
  const client = await make(server.port, tls.client);
  await client.upload(hexName(), randomBytes(CHUNK));
  const results = { upload: await measure(client, server, files, "upload") };
  results.download = await measure(client, server, files, "download");
  client.close();
  server.stop();
  return results;
}

async function makeTls() {
  const ca = await createCertificateAuthority({ commonName: "bench CA", validityDays: 1 });
  const server = await issueServerCertificate(ca, {
    commonName: "localhost",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
    validityDays: 1,
  });
  const { keyPem, csrPem } = await createKeyAndCsr({ commonName: "bench-agent" });
  const { certPem } = await signCsr(ca, csrPem, { commonName: "bench-agent", validityDays: 1 });
  return {
    server: { ca: ca.certPem, cert: server.certPem, key: server.keyPem },
    client: { ca: ca.certPem, cert: certPem, key: keyPem },
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "3" },
      mib: { type: "string", default: "192" },
      transports: { type: "string", default: "local,http2,grpc,storage" },
    },
  });
  const tls = await makeTls();
  const transports = values.transports.split(",");
  console.log(
    `${values.mib} MiB per direction per run, sequential, median of ${values.runs} runs; CPU = client + server seconds per GiB\n`,
  );
  console.log(
    "| transport | file MiB | upload MB/s | upload CPU s/GiB | download MB/s | download CPU s/GiB |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const mib of SIZES_MIB) {
    const count = Math.max(1, Math.round(Number(values.mib) / mib));
    const files = Array.from({ length: count }, () => ({ name: hexName(), body: randomBytes(mib << 20) }));
    const bytes = count * (mib << 20);
    for (const transport of transports) {
      const runs = [];
      for (let r = 0; r < Number(values.runs); r++) runs.push(await runOnce(transport, tls, files));
      const rate = (d) => median(runs.map((x) => bytes / 1e6 / x[d].seconds)).toFixed(0);
      const cpu = (d) => median(runs.map((x) => x[d].cpu / (bytes / 2 ** 30))).toFixed(2);
      console.log(
        `| ${transport} | ${mib} | ${rate("upload")} | ${cpu("upload")} | ${rate("download")} | ${cpu("download")} |`,
      );
    }
  }
}

if (process.argv.includes("--serve")) await serve();
else await main();
