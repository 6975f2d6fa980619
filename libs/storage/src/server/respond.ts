import type { ServerHttp2Stream } from "node:http2";
import { statusOf, toWireError } from "../protocol/wire-errors.js";

function open(stream: ServerHttp2Stream): boolean {
  return !stream.destroyed && !stream.closed && !stream.headersSent;
}

export function respondEmpty(
  stream: ServerHttp2Stream,
  status: number,
  headers: Record<string, string | number> = {},
): void {
  if (!open(stream)) return;
  stream.respond({ ":status": status, ...headers }, { endStream: true });
}

export function respondBytes(stream: ServerHttp2Stream, status: number, body: Buffer): void {
  if (!open(stream)) return;
  stream.respond({
    ":status": status,
    "content-type": "application/octet-stream",
    "content-length": body.length,
  });
  stream.end(body);
}

export function respondJson(stream: ServerHttp2Stream, status: number, value: unknown): void {
  if (!open(stream)) return;
  const body = Buffer.from(JSON.stringify(value));
  stream.respond({ ":status": status, "content-type": "application/json", "content-length": body.length });
  stream.end(body);
}

/**
 * Sends a RepoError as its status and JSON body; anything else is a bug and
 * gets a bare 500 (its message may name server paths). Returns whether it
 * was a RepoError, so the caller can log the others.
 */
export function respondError(stream: ServerHttp2Stream, err: unknown, isHead: boolean): boolean {
  const wire = toWireError(err);
  const status = wire ? statusOf(wire.error.code) : 500;
  if (isHead || !wire) respondEmpty(stream, status);
  else respondJson(stream, status, wire);
  return wire !== undefined;
}
