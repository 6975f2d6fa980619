import { randomUUID } from "node:crypto";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import type { Catalog } from "@pwdr/catalog";
import type { Logger } from "@pwdr/logging";
import {
  type EnrollmentService,
  type EnrollRequest,
  type EnrollResponse,
  hashTokenSecret,
  InvalidEnrollmentTokenError,
  parseEnrollmentToken,
  type ServiceImplementation,
  sameFingerprint,
} from "@pwdr/protocol";
import { signAgentCertificate } from "./agent-certificate-signing.js";
import type { ControllerPki } from "./controller-pki.js";
import type { HostRepositories } from "./fleet-storage/host-repositories.js";
import { RpcError, toServiceError } from "./grpc-errors.js";

export interface EnrollmentDeps {
  db: Catalog;
  pki: ControllerPki;
  sessionAddress: string;
  /** How long an agent certificate is valid; agents renew it before it ends. */
  certificateValidityMs: number;
  log: Logger;
  repositories: HostRepositories;
}

const DENIED = "enrollment token is unknown, expired or already used; create a new one with `token create`";

async function claimToken(db: Catalog, token: string, caFingerprint: string) {
  let parsed: ReturnType<typeof parseEnrollmentToken>;
  try {
    parsed = parseEnrollmentToken(token);
  } catch (err) {
    if (err instanceof InvalidEnrollmentTokenError)
      throw new RpcError(grpc.status.INVALID_ARGUMENT, err.message);
    throw err;
  }
  if (!sameFingerprint(parsed.caFingerprint, caFingerprint)) {
    throw new RpcError(grpc.status.PERMISSION_DENIED, "enrollment token was issued by another controller");
  }
  const tokenHash = hashTokenSecret(parsed.secret);
  // The conditional update is the single point where a token is spent, so two
  // agents racing with one token cannot both pass.
  const claimed = await db.enrollmentToken.updateMany({
    where: { tokenHash, usedAt: null, expiresAt: { gt: new Date() } },
    data: { usedAt: new Date() },
  });
  if (claimed.count !== 1) throw new RpcError(grpc.status.PERMISSION_DENIED, DENIED);
  return db.enrollmentToken.findUniqueOrThrow({ where: { tokenHash } });
}

async function uniqueHostName(db: Catalog, wanted: string): Promise<string> {
  const base = wanted.trim() || "host";
  if (!(await db.host.findUnique({ where: { name: base } }))) return base;
  return `${base}-${randomUUID().slice(0, 8)}`;
}

async function enroll(deps: EnrollmentDeps, req: EnrollRequest): Promise<EnrollResponse> {
  if (!req.csrPem) throw new RpcError(grpc.status.INVALID_ARGUMENT, "csr_pem is required");
  const token = await claimToken(deps.db, req.token, deps.pki.caFingerprint);
  const name = await uniqueHostName(deps.db, req.facts?.hostname ?? "");
  const hostId = randomUUID();
  const signed = await signAgentCertificate(deps.pki, hostId, req.csrPem, deps.certificateValidityMs);
  await deps.db.$transaction([
    deps.db.host.create({
      data: {
        id: hostId,
        name,
        labels: token.labels ?? {},
        state: "offline",
        agentVersion: req.facts?.agentVersion ?? null,
        facts: req.facts ? { hostname: req.facts.hostname, os: req.facts.os, arch: req.facts.arch } : {},
      },
    }),
    deps.db.agentCertificate.create({
      data: {
        hostId,
        serial: signed.serialNumber,
        fingerprintSha256: signed.fingerprintSha256,
        notAfter: signed.notAfter,
      },
    }),
    deps.db.enrollmentToken.update({ where: { id: token.id }, data: { usedByHostId: hostId } }),
    deps.db.auditEvent.create({
      data: {
        actor: `token:${token.id}`,
        action: "host.enroll",
        target: `host:${hostId}`,
        details: { name },
      },
    }),
  ]);
  deps.log.info("host enrolled", { hostId, name });
  await createHostRepository(deps, hostId);
  return {
    $typeName: "pwdr.v1.EnrollResponse",
    hostId,
    hostName: name,
    certificatePem: signed.certPem,
    caCertificatePem: deps.pki.ca.certPem,
    notAfter: timestampFromDate(signed.notAfter),
    sessionAddress: deps.sessionAddress,
  };
}

/** Not fatal: the agent's first request for its repository creates it (GetRepositoryAccess). */
async function createHostRepository(deps: EnrollmentDeps, hostId: string): Promise<void> {
  try {
    await deps.repositories.ensure(hostId);
  } catch (err) {
    deps.log.warn("host repository not created at enrollment; it will be on first use", {
      hostId,
      error: String(err),
    });
  }
}

export function enrollmentHandlers(deps: EnrollmentDeps): ServiceImplementation<typeof EnrollmentService> {
  return {
    enroll: (call, callback) => {
      enroll(deps, call.request).then(
        (res) => callback(null, res),
        (err: unknown) => {
          if (!(err instanceof RpcError)) deps.log.error("enrollment failed", { error: String(err) });
          callback(toServiceError(err));
        },
      );
    },
  };
}
