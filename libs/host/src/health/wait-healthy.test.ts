import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { freePort } from "@pwdr/test-harness";
import { afterEach, describe, expect, it } from "vitest";
import { healthCheckSchema } from "../definition/host-definition.js";
import { waitHealthy } from "./wait-healthy.js";

let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/system/health`;
}

describe("waitHealthy", () => {
  it("retries until the endpoint answers the expected status", async () => {
    let calls = 0;
    const url = await serve((_req, res) => {
      calls++;
      res.writeHead(calls < 3 ? 503 : 200).end("{}");
    });
    const result = await waitHealthy(healthCheckSchema.parse({ url, intervalMs: 10 }));
    expect(result).toMatchObject({ status: 200, attempts: 3 });
  });

  it("reports the last answer when it never gets healthy", async () => {
    const url = await serve((_req, res) => res.writeHead(503).end());
    await expect(waitHealthy(healthCheckSchema.parse({ url, attempts: 3, intervalMs: 10 }))).rejects.toThrow(
      /did not answer 200 in 3 attempts .*last: status 503/,
    );
  });

  it("bounds each request by its time-out and names a refused connection", async () => {
    const url = await serve(() => {});
    await expect(
      waitHealthy(healthCheckSchema.parse({ url, attempts: 2, intervalMs: 0, timeoutMs: 200 })),
    ).rejects.toThrow(/last: no answer within 200 ms/);
    const closed = `http://127.0.0.1:${await freePort()}/health`;
    await expect(waitHealthy(healthCheckSchema.parse({ url: closed, attempts: 1 }))).rejects.toThrow(
      /last: ECONNREFUSED/,
    );
  });
});
