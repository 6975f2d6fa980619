// Serves the built dashboard (apps/dashboard/dist): files are read once at
// start, with the Brotli and gzip copies the build made, and sent in the
// encoding the browser accepts.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import type { Logger } from "@pwdr/logging";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

interface Asset {
  type: string;
  body: Buffer;
  br: Buffer | undefined;
  gz: Buffer | undefined;
  etag: string;
  /** Hashed names never change content: cached for a year without asking again. */
  immutable: boolean;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/**
 * Only this origin's script and style run; no inline code, no framing, no
 * plug-ins, and fetch goes nowhere but the controller itself.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
};

function readOptional(path: string): Buffer | undefined {
  return existsSync(path) ? readFileSync(path) : undefined;
}

function loadAsset(path: string, immutable: boolean): Asset {
  const body = readFileSync(path);
  return {
    type: TYPES[extname(path)] ?? "application/octet-stream",
    body,
    br: readOptional(`${path}.br`),
    gz: readOptional(`${path}.gz`),
    etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`,
    immutable,
  };
}

/** URL path → asset, for the files of a built dashboard; empty when it is not built. */
export function loadAssets(distDir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const index = join(distDir, "index.html");
  if (!existsSync(index)) return assets;
  assets.set("/", loadAsset(index, false));
  const dir = join(distDir, "assets");
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    if (name.endsWith(".br") || name.endsWith(".gz")) continue;
    assets.set(`/assets/${name}`, loadAsset(join(dir, name), true));
  }
  return assets;
}

function encodingFor(request: FastifyRequest, asset: Asset): "br" | "gzip" | undefined {
  const accepted = String(request.headers["accept-encoding"] ?? "");
  if (asset.br && /\bbr\b/.test(accepted)) return "br";
  if (asset.gz && /\bgzip\b/.test(accepted)) return "gzip";
  return undefined;
}

function send(request: FastifyRequest, reply: FastifyReply, asset: Asset) {
  reply.headers(SECURITY_HEADERS);
  reply.header("vary", "accept-encoding");
  reply.header("etag", asset.etag);
  reply.header("cache-control", asset.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  if (request.headers["if-none-match"] === asset.etag) return reply.status(304).send();
  const encoding = encodingFor(request, asset);
  reply.type(asset.type);
  if (encoding) reply.header("content-encoding", encoding);
  return reply.send(encoding === "br" ? asset.br : encoding === "gzip" ? asset.gz : asset.body);
}

/** `/` → the app, `/assets/<hashed name>` → its bundles; a clear page when the dashboard is not built. */
export function registerStaticAssets(app: FastifyInstance, distDir: string, log: Logger): void {
  const assets = loadAssets(distDir);
  if (assets.size === 0) {
    log.warn("dashboard not built; / answers 503 until it is", { distDir, fix: "npm run build" });
  }
  app.get("/", { config: { access: "public" }, schema: { hide: true } }, async (request, reply) => {
    const index = assets.get("/");
    if (index) return send(request, reply, index);
    reply.headers(SECURITY_HEADERS);
    return reply
      .status(503)
      .type("text/plain; charset=utf-8")
      .send("The PWDR dashboard is not built: run `npm run build`, then restart the controller.\n");
  });
  app.get<{ Params: { name: string } }>(
    "/assets/:name",
    { config: { access: "public" }, schema: { hide: true } },
    async (request, reply) => {
      const asset = assets.get(`/assets/${request.params.name}`);
      if (!asset) {
        reply.headers(SECURITY_HEADERS);
        return reply.status(404).type("text/plain; charset=utf-8").send("no such dashboard asset\n");
      }
      return send(request, reply, asset);
    },
  );
}
