import { createHash } from "node:crypto";
import { makeTempDir } from "@pwdr/test-harness";
import type { Backend } from "../backend/backend.js";
import { LocalBackend } from "../backend/local-backend.js";
import type { RepoParams } from "../repo-config.js";
import { Repository } from "../repository.js";

/** Cheap scrypt parameters: tests open many repositories. */
export const FAST_KDF = { N: 1024, r: 8, p: 1 };
export const PASSWORD = "correct horse battery staple";

export async function tempRepository(
  params: Partial<RepoParams> = {},
): Promise<{ repo: Repository; backend: LocalBackend; root: string }> {
  const root = `${await makeTempDir("pwdr-repo-")}/repo`;
  const backend = new LocalBackend(root);
  const repo = await Repository.init(backend, PASSWORD, { kdf: FAST_KDF, params });
  return { repo, backend, root };
}

/** Deterministic pseudo-random bytes (SHA-256 in counter mode). */
export function seededBytes(seed: string, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0, block = 0; i < length; block++) {
    const h = createHash("sha256").update(`${seed}:${block}`).digest();
    i += h.copy(out, i);
  }
  return out;
}

/** The same backend without `stage`: writers fall back to buffering packs and `save`. */
export function withoutStaging(inner: Backend): Backend {
  return {
    location: inner.location,
    create: () => inner.create(),
    save: (h, data) => inner.save(h, data),
    load: (h, range) => inner.load(h, range),
    stat: (h) => inner.stat(h),
    list: (type) => inner.list(type),
    remove: (h) => inner.remove(h),
  };
}
