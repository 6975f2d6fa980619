import { createHash } from "node:crypto";
import type { ServerHttp2Stream } from "node:http2";
import { RepoError } from "@pwdr/repo";

export interface Body {
  parts: Buffer[];
  size: number;
  sha256: string;
}

function tooLarge(limit: number): RepoError {
  return new RepoError(
    "invalid_argument",
    `the request body is larger than the server's limit of ${limit} bytes; repository files are far smaller`,
  );
}

/** Reads a request body, hashing as it goes, and gives up as soon as it passes `limit` bytes. */
export function readBody(
  stream: ServerHttp2Stream,
  declaredLength: number | undefined,
  limit: number,
): Promise<Body> {
  if (declaredLength !== undefined && declaredLength > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    const hash = createHash("sha256");
    let size = 0;
    stream.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stream.removeAllListeners("data");
        stream.pause();
        reject(tooLarge(limit));
        return;
      }
      parts.push(chunk);
      hash.update(chunk);
    });
    stream.once("end", () => resolve({ parts, size, sha256: hash.digest("hex") }));
    stream.once("aborted", () =>
      reject(new RepoError("backend_unavailable", "the client went away mid-upload")),
    );
  });
}
