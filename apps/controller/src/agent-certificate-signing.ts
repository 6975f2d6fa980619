import * as grpc from "@grpc/grpc-js";
import { type SignedCertificate, signCsr } from "@pwdr/pki";
import { certificateFingerprint } from "@pwdr/protocol";
import type { ControllerPki } from "./controller-pki.js";
import { RpcError } from "./grpc-errors.js";

export const DEFAULT_AGENT_CERT_VALIDITY_MS = 90 * 86_400_000;

export interface SignedAgentCertificate extends SignedCertificate {
  fingerprintSha256: string;
}

/** Signs an agent's CSR as a client certificate naming the host; a bad CSR is the caller's error. */
export async function signAgentCertificate(
  pki: ControllerPki,
  hostId: string,
  csrPem: string,
  validityMs: number,
): Promise<SignedAgentCertificate> {
  let signed: SignedCertificate;
  try {
    signed = await signCsr(pki.ca, csrPem, { commonName: hostId, validityDays: validityMs / 86_400_000 });
  } catch (err) {
    throw new RpcError(
      grpc.status.INVALID_ARGUMENT,
      `certificate signing request refused: ${(err as Error).message}`,
    );
  }
  return { ...signed, fingerprintSha256: certificateFingerprint(signed.certPem) };
}
