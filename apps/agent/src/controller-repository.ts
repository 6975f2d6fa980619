import * as grpc from "@grpc/grpc-js";
import {
  AgentStorageService,
  CONTROLLER_TLS_NAME,
  clientCredentials,
  controllerChannelOptions,
  createClient,
} from "@pwdr/protocol";
import { RepoError } from "@pwdr/repo";
import { RemoteBackend } from "@pwdr/storage";
import { type AgentIdentity, loadIdentity } from "./agent-identity.js";

/** A controller-stored repository as this agent reaches it; the password lives only in memory. */
export interface ControllerRepository {
  backend: RemoteBackend;
  password: string;
}

const ACCESS_DEADLINE_MS = 30_000;

/**
 * Asks the controller (over the session port's mutual TLS) where this host's
 * repository is and for its password, then connects to the storage server
 * with the enrolled identity. Asked again for every job rather than cached on
 * disk: the storage is the controller's, so a cached password would not let a
 * backup run while the controller is away, and revoking the certificate
 * would not take back a copy.
 *
 * `repository` names another host's repository (a DR replacement reading the
 * failed host's); the controller grants it read access only during that run.
 */
export async function connectControllerRepository(
  dataDir: string,
  repository = "",
): Promise<ControllerRepository> {
  const identity = await loadIdentity(dataDir);
  const access = await fetchRepositoryAccess(identity, repository);
  const backend = new RemoteBackend({
    url: storageUrl(identity.sessionAddress, access.storagePort),
    repository: access.repository,
    ca: identity.caPem,
    cert: identity.tls.certPem,
    key: identity.tls.keyPem,
    servername: CONTROLLER_TLS_NAME,
  });
  return { backend, password: access.password };
}

async function fetchRepositoryAccess(identity: AgentIdentity, repository: string) {
  const client = createClient(
    AgentStorageService,
    identity.sessionAddress,
    clientCredentials({ caPem: identity.caPem, identity: identity.tls }),
    controllerChannelOptions(),
  );
  const deadline = Date.now() + ACCESS_DEADLINE_MS;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        // waitForReady: a controller that is restarting (refusing connections) is waited for.
        return await client.getRepositoryAccess(
          { repository },
          { metadata: new grpc.Metadata({ waitForReady: true }), options: { deadline } },
        );
      } catch (err) {
        // A call the restart cut off mid-way is asked again, as the storage requests are.
        const delay = Math.min(250 * 2 ** attempt, 4_000);
        const unavailable = (err as grpc.ServiceError).code === grpc.status.UNAVAILABLE;
        if (!unavailable || Date.now() + delay >= deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  } catch (err) {
    throw accessError(identity.sessionAddress, err as grpc.ServiceError, repository);
  } finally {
    client.grpcClient.close();
  }
}

function accessError(address: string, err: grpc.ServiceError, repository: string): RepoError {
  const details = err.details || err.message;
  switch (err.code) {
    case grpc.status.PERMISSION_DENIED:
      if (repository) {
        return new RepoError(
          "access_denied",
          `the controller at ${address} does not let this host read repository ${repository}: ${details} ` +
            "(another host's repository is readable only by its replacement while a disaster-recovery run is active)",
        );
      }
      return new RepoError("access_denied", `the controller at ${address} refused this agent: ${details}`);
    case grpc.status.UNAUTHENTICATED:
      return new RepoError("access_denied", `the controller at ${address} refused this agent: ${details}`);
    case grpc.status.UNIMPLEMENTED:
      return new RepoError(
        "repo_not_found",
        `the controller at ${address} does not store repositories (older version); upgrade it or use repository.path`,
      );
    default:
      return new RepoError(
        "backend_unavailable",
        `cannot get the repository from the controller at ${address}: ${details}`,
      );
  }
}

/**
 * The storage server is dialled at the host this agent already reaches the
 * controller at; the certificate is checked against CONTROLLER_TLS_NAME, so
 * the address itself need not be in it.
 */
export function storageUrl(sessionAddress: string, port: number): string {
  const host = sessionAddress.slice(0, sessionAddress.lastIndexOf(":"));
  return `https://${host}:${port}`;
}
