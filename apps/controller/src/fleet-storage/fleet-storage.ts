import type { Catalog } from "@pwdr/catalog";
import type { Logger } from "@pwdr/logging";
import type { KdfParams } from "@pwdr/repo";
import {
  type RunningStorageServer,
  type StorageServerEvent,
  type StorageServerOptions,
  startStorageServer,
} from "@pwdr/storage";
import type { ControllerPki } from "../controller-pki.js";
import { HostRepositories } from "./host-repositories.js";
import { loadOrCreateMasterKey } from "./master-key.js";
import { authorizeAgents } from "./storage-access.js";

export interface FleetStorageOptions {
  db: Catalog;
  dataDir: string;
  pki: ControllerPki;
  host: string;
  port: number;
  log: Logger;
  kdf?: KdfParams;
}

export interface FleetStorage {
  repositories: HostRepositories;
  server: RunningStorageServer;
}

/** Host repositories under `<dataDir>/repos`, served to agents append-only over mutual TLS. */
export async function startFleetStorage(options: FleetStorageOptions): Promise<FleetStorage> {
  const { db, log } = options;
  const repositories = new HostRepositories({
    db,
    dataDir: options.dataDir,
    masterKey: await loadOrCreateMasterKey(options.dataDir),
    log,
    ...(options.kdf ? { kdf: options.kdf } : {}),
  });
  await repositories.writeSealedCopies();
  const server = await listen(options, {
    repositories: (name) => repositories.served(name),
    authorize: authorizeAgents(db),
    onEvent: (event) => logStorageEvent(log, event),
  });
  return { repositories, server };
}

async function listen(
  options: FleetStorageOptions,
  serve: Pick<StorageServerOptions, "repositories" | "authorize" | "onEvent">,
): Promise<RunningStorageServer> {
  const { pki, host, port } = options;
  try {
    return await startStorageServer({
      ...serve,
      ca: pki.ca.certPem,
      cert: pki.server.certPem,
      key: pki.server.keyPem,
      host,
      port,
    });
  } catch (err) {
    throw new Error(
      `storage server cannot listen on ${host}:${port} (${(err as Error).message}); pick another --storage-port`,
    );
  }
}

// Events carry paths, codes and client names, never file contents or passwords.
function logStorageEvent(log: Logger, event: StorageServerEvent): void {
  if (event.kind === "internal_error") {
    const { error, ...rest } = event;
    log.error("storage request failed", { ...rest, error: String(error) });
  } else if (event.kind === "tls_refused") {
    log.warn("storage connection refused", { reason: event.message });
  } else {
    log.warn("storage request refused", { ...event });
  }
}
