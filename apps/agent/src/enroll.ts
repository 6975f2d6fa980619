import { X509Certificate } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { connect, type PeerCertificate } from "node:tls";
import { createKeyAndCsr } from "@pwdr/pki";
import {
  CONTROLLER_TLS_NAME,
  clientCredentials,
  controllerChannelOptions,
  createClient,
  EnrollmentService,
  parseEnrollmentToken,
} from "@pwdr/protocol";
import { type AgentIdentity, saveIdentity } from "./agent-identity.js";
import { collectHostFacts } from "./host-facts.js";

export class EnrollmentError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "EnrollmentError";
  }
}

function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(":");
  const port = Number(address.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port)) {
    throw new EnrollmentError("bad_address", `controller address "${address}" must look like host:port`);
  }
  return { host: address.slice(0, i), port };
}

function chainOf(peer: PeerCertificate): PeerCertificate[] {
  const chain: PeerCertificate[] = [];
  let cert: PeerCertificate | undefined = peer;
  while (cert?.raw && !chain.includes(cert)) {
    chain.push(cert);
    cert = (cert as { issuerCertificate?: PeerCertificate }).issuerCertificate;
  }
  return chain;
}

/**
 * Fetches the controller's certificate chain without trusting it, and keeps
 * the CA whose fingerprint the token pins; the chain is then verified
 * properly by the TLS channel that carries the token.
 */
export function fetchPinnedCa(address: string, fingerprint: string, timeoutMs = 10_000): Promise<string> {
  const { host, port } = splitAddress(address);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, servername: CONTROLLER_TLS_NAME, rejectUnauthorized: false });
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`no TLS answer from ${address} in ${timeoutMs} ms`)),
    );
    socket.once("error", (err) =>
      reject(
        new EnrollmentError(
          "controller_unreachable",
          `cannot reach controller at ${address}: ${err.message}`,
        ),
      ),
    );
    socket.once("secureConnect", () => {
      const match = chainOf(socket.getPeerCertificate(true))
        .map((c) => new X509Certificate(c.raw))
        .find((c) => c.fingerprint256.replaceAll(":", "").toLowerCase() === fingerprint);
      socket.end();
      if (match) resolve(match.toString());
      else
        reject(
          new EnrollmentError(
            "ca_mismatch",
            `controller at ${address} does not hold the CA this token names`,
          ),
        );
    });
  });
}

export interface EnrollOptions {
  enrollAddress: string;
  token: string;
  dataDir: string;
  labels?: Record<string, string>;
}

/** Trades a one-time token for a client certificate and stores the identity in the data dir. */
export async function enrollAgent(options: EnrollOptions): Promise<AgentIdentity> {
  const { caFingerprint } = parseEnrollmentToken(options.token);
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const caPem = await fetchPinnedCa(options.enrollAddress, caFingerprint);
  const { keyPem, csrPem } = await createKeyAndCsr({ commonName: "pwdr-agent" });
  const client = createClient(
    EnrollmentService,
    options.enrollAddress,
    clientCredentials({ caPem }),
    controllerChannelOptions(),
  );
  try {
    const facts = await collectHostFacts(options.dataDir, options.labels);
    const res = await client.enroll(
      { token: options.token, csrPem, facts },
      { options: { deadline: Date.now() + 30_000 } },
    );
    const identity: AgentIdentity = {
      hostId: res.hostId,
      hostName: res.hostName,
      sessionAddress: res.sessionAddress,
      caPem: res.caCertificatePem,
      tls: { certPem: res.certificatePem, keyPem },
    };
    await saveIdentity(options.dataDir, identity);
    return identity;
  } catch (err) {
    if (err instanceof EnrollmentError) throw err;
    const details = (err as { details?: string }).details ?? (err as Error).message;
    throw new EnrollmentError("enrollment_refused", `enrollment failed: ${details}`);
  } finally {
    client.grpcClient.close();
  }
}
