import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import type { Catalog } from "@pwdr/catalog";
import type { Logger } from "@pwdr/logging";
import {
  type AgentStorageService,
  type GetRepositoryAccessResponse,
  GetRepositoryAccessResponseSchema,
  peerIdentity,
  type ServiceImplementation,
} from "@pwdr/protocol";
import { checkAgentCertificate, isRefusal } from "../agent-certificates.js";
import { drReadGrant } from "../dr/cross-host-grant.js";
import { RpcError, toServiceError } from "../grpc-errors.js";
import type { HostRepositories } from "./host-repositories.js";

export interface StorageServiceDeps {
  db: Catalog;
  repositories: HostRepositories;
  storagePort: number;
  log: Logger;
}

type PeerCall = Parameters<typeof peerIdentity>[0];

/**
 * The caller's own repository, or another host's when a DR run restores that
 * host onto the caller (read-only on the storage server); refused otherwise.
 */
async function repositoryAccess(
  deps: StorageServiceDeps,
  call: PeerCall,
  requested: string,
): Promise<GetRepositoryAccessResponse> {
  const peer = peerIdentity(call);
  if (!peer) throw new RpcError(grpc.status.UNAUTHENTICATED, "no client certificate; enroll the agent first");
  const check = await checkAgentCertificate(deps.db, peer.fingerprintSha256);
  if (isRefusal(check)) throw new RpcError(check.code, check.reason);
  const repository = requested || check.hostId;
  if (repository !== check.hostId && !(await drReadGrant(deps.db, check.hostId, repository))) {
    throw new RpcError(
      grpc.status.PERMISSION_DENIED,
      `host ${check.hostId} may read repository ${repository} only while a DR run restores that host onto it`,
    );
  }
  const password = await deps.repositories.ensure(repository);
  deps.log.debug("repository access handed over", { hostId: check.hostId, repository });
  return create(GetRepositoryAccessResponseSchema, { storagePort: deps.storagePort, repository, password });
}

export function storageHandlers(deps: StorageServiceDeps): ServiceImplementation<typeof AgentStorageService> {
  return {
    getRepositoryAccess: (call, callback) => {
      repositoryAccess(deps, call, call.request.repository).then(
        (res) => callback(null, res),
        (err: unknown) => {
          if (err instanceof RpcError) deps.log.warn("repository access refused", { reason: err.message });
          else deps.log.error("repository access failed", { error: String(err) });
          callback(toServiceError(err));
        },
      );
    },
  };
}
