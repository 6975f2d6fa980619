import { connect, type OutgoingHttpHeaders } from "node:http2";

export interface RawAnswer {
  status: number;
  body: string;
}

/** One HTTP/2 request exactly as given, bypassing RemoteBackend's own checks: what a hostile client can send. */
export function rawRequest(
  url: string,
  tls: { ca: string; cert?: string; key?: string },
  headers: OutgoingHttpHeaders,
  body?: Buffer | Buffer[],
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const session = connect(url, tls);
    session.on("error", reject);
    const stream = session.request(headers, { endStream: body === undefined });
    let status = 0;
    const parts: Buffer[] = [];
    stream.on("response", (h) => {
      status = Number(h[":status"]);
    });
    stream.on("data", (c: Buffer) => parts.push(c));
    stream.on("error", () => {});
    stream.on("close", () => {
      session.close();
      if (status) resolve({ status, body: Buffer.concat(parts).toString("utf8") });
      else reject(new Error(`no answer (HTTP/2 code ${stream.rstCode})`));
    });
    for (const part of body === undefined ? [] : Array.isArray(body) ? body : [body]) stream.write(part);
    if (body !== undefined) stream.end();
  });
}
