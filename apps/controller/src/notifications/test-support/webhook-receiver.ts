import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A webhook receiver on 127.0.0.1: records every POST and answers with the statuses it is told to. */
export interface WebhookReceiver {
  requests: ReceivedRequest[];
  url(path: string): string;
  /** The next answers on `path`, in order; 200 once they are used up. */
  answer(path: string, ...statuses: number[]): void;
  /** Resolves once `count` requests arrived on `path`. */
  received(path: string, count: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const scripted = new Map<string, number[]>();
  const waiting: { path: string; count: number; resolve(): void }[] = [];
  const on = (path: string) => requests.filter((r) => r.path === path);

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "/";
      requests.push({ path, headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
      const status = scripted.get(path)?.shift() ?? 200;
      res.writeHead(status, status === 429 ? { "retry-after": "0" } : {}).end(status < 300 ? "ok" : "no");
      for (const w of [...waiting]) {
        if (on(w.path).length < w.count) continue;
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    requests,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    answer(path, ...statuses) {
      scripted.set(path, [...(scripted.get(path) ?? []), ...statuses]);
    },
    async received(path, count) {
      if (on(path).length < count)
        await new Promise<void>((resolve) => waiting.push({ path, count, resolve }));
      return on(path);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
