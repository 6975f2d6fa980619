import { X509Certificate } from "node:crypto";
import * as grpc from "@grpc/grpc-js";

/** PEM material for one side of a TLS connection. */
export interface TlsIdentity {
  certPem: string;
  keyPem: string;
}

/**
 * The name every controller certificate carries as a SAN. Agents dial an IP
 * or host name but verify this name, so a certificate does not need to know
 * every address the controller is reachable at.
 */
export const CONTROLLER_TLS_NAME = "pwdr-controller";

/**
 * Server credentials. With `requireClientCertificate`, the TLS handshake
 * itself refuses clients without a certificate signed by `caPem`.
 */
export function serverCredentials(options: {
  caPem: string;
  identity: TlsIdentity;
  requireClientCertificate: boolean;
}): grpc.ServerCredentials {
  return grpc.ServerCredentials.createSsl(
    Buffer.from(options.caPem),
    [
      {
        private_key: Buffer.from(options.identity.keyPem),
        cert_chain: Buffer.from(options.identity.certPem),
      },
    ],
    options.requireClientCertificate,
  );
}

/** Client credentials trusting only `caPem`, presenting `identity` when given. */
export function clientCredentials(options: {
  caPem: string;
  identity?: TlsIdentity;
}): grpc.ChannelCredentials {
  const { caPem, identity } = options;
  return grpc.credentials.createSsl(
    Buffer.from(caPem),
    identity ? Buffer.from(identity.keyPem) : null,
    identity ? Buffer.from(identity.certPem) : null,
  );
}

/** Channel options that make the client verify the controller's fixed TLS name. */
export function controllerChannelOptions(extra: grpc.ChannelOptions = {}): grpc.ChannelOptions {
  return {
    "grpc.ssl_target_name_override": CONTROLLER_TLS_NAME,
    "grpc.default_authority": CONTROLLER_TLS_NAME,
    "grpc.keepalive_time_ms": 30_000,
    "grpc.keepalive_timeout_ms": 10_000,
    ...extra,
  };
}

/** SHA-256 of a certificate's DER as lowercase hex: how tokens and the catalog name certificates. */
export function certificateFingerprint(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256.replaceAll(":", "").toLowerCase();
}

/** The verified client certificate of a call, or undefined on a non-mTLS channel. */
export interface PeerIdentity {
  commonName: string;
  serialNumber: string;
  fingerprintSha256: string;
  notAfter: Date;
}

// grpc-js does not export its AuthContext type from the package root.
type PeerAuthContext = { sslPeerCertificate?: { raw?: Buffer } };

/** Reads the client certificate that TLS verified for this call. */
export function peerIdentity(call: { getAuthContext(): PeerAuthContext | null }): PeerIdentity | undefined {
  const raw = call.getAuthContext()?.sslPeerCertificate?.raw;
  return raw ? certificateIdentity(raw) : undefined;
}

/** The identity in a verified certificate (DER), for servers that are not grpc-js (the storage server). */
export function certificateIdentity(raw: Buffer): PeerIdentity {
  const cert = new X509Certificate(raw);
  const commonName = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1] ?? "";
  return {
    commonName,
    serialNumber: cert.serialNumber.toLowerCase(),
    fingerprintSha256: cert.fingerprint256.replaceAll(":", "").toLowerCase(),
    notAfter: new Date(cert.validTo),
  };
}
