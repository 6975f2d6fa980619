import { join } from "node:path";
import { createTestCa, makeTempDir, type TestCa } from "@pwdr/test-harness";
import { RemoteBackend } from "../client/remote-backend.js";
import type { Access, Authorize } from "../server/access.js";
import {
  type RunningStorageServer,
  type StorageServerEvent,
  startStorageServer,
} from "../server/storage-server.js";

export interface Grant {
  repository: string;
  access: Access;
}

/** A real storage server on loopback with per-client grants, and clients with certificates from the same CA. */
export interface StorageFixture {
  ca: TestCa;
  server: RunningStorageServer;
  roots: Record<string, string>;
  events: StorageServerEvent[];
  client(commonName: string, repository: string): Promise<RemoteBackend>;
  close(): Promise<void>;
}

export async function startFixture(options: {
  ca?: TestCa;
  repositories: string[];
  grants: Record<string, Grant[]>;
  maxFileBytes?: number;
  /** Replaces the grants, for tests of the hook itself. */
  authorize?: Authorize;
}): Promise<StorageFixture> {
  const ca = options.ca ?? (await createTestCa());
  const base = makeTempDir("storage");
  const roots = Object.fromEntries(options.repositories.map((name) => [name, join(base, name)]));
  const serverCert = await ca.issueServer();
  const events: StorageServerEvent[] = [];
  const server = await startStorageServer({
    ca: ca.ca.certPem,
    cert: serverCert.certPem,
    key: serverCert.keyPem,
    repositories: roots,
    authorize:
      options.authorize ??
      (({ identity, repository }) =>
        options.grants[identity.commonName]?.find((g) => g.repository === repository)?.access),
    ...(options.maxFileBytes ? { maxFileBytes: options.maxFileBytes } : {}),
    onEvent: (e) => events.push(e),
  });
  const clients: RemoteBackend[] = [];
  return {
    ca,
    server,
    roots,
    events,
    async client(commonName, repository) {
      const identity = await ca.issueClient(commonName);
      const backend = new RemoteBackend({
        url: server.url,
        ca: ca.ca.certPem,
        cert: identity.certPem,
        key: identity.keyPem,
        repository,
      });
      clients.push(backend);
      return backend;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await server.close();
    },
  };
}
