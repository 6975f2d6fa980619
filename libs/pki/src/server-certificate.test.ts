import { createPublicKey, X509Certificate } from "node:crypto";
import { once } from "node:events";
import { type AddressInfo, isIP } from "node:net";
import { connect, createServer, type TLSSocket } from "node:tls";
import { describe, expect, it } from "vitest";
import {
  type CertificateWithKey,
  createCertificateAuthority,
  createKeyAndCsr,
  issueServerCertificate,
  signCsr,
} from "./index.js";
import { opensslVerify } from "./test-support/openssl.js";

const ca = await createCertificateAuthority({ commonName: "Test CA", validityDays: 30 });
const otherCa = await createCertificateAuthority({ commonName: "Test CA", validityDays: 30 });
const server = await issueServerCertificate(ca, {
  commonName: "controller",
  dnsNames: ["localhost", "controller.example"],
  ipAddresses: ["127.0.0.1", "::1"],
  validityDays: 10,
});

describe("issueServerCertificate", () => {
  it("is issued and signed by the CA, as Node sees it", () => {
    const cert = new X509Certificate(server.certPem);
    const caCert = new X509Certificate(ca.certPem);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.verify(new X509Certificate(otherCa.certPem).publicKey)).toBe(false);
    expect(cert.ca).toBe(false);
    expect(cert.subject).toBe("CN=controller");
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
  });

  it("names the requested hosts and addresses, and no others", () => {
    const cert = new X509Certificate(server.certPem);
    expect(cert.checkHost("localhost")).toBe("localhost");
    expect(cert.checkHost("controller.example")).toBe("controller.example");
    expect(cert.checkHost("controller")).toBeUndefined();
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(cert.checkIP("::1")).toBe("::1");
    expect(cert.checkIP("127.0.0.2")).toBeUndefined();
  });

  it("returns the key that belongs to the certificate", () => {
    const fromKey = createPublicKey(server.keyPem).export({ type: "spki", format: "der" });
    const fromCert = new X509Certificate(server.certPem).publicKey.export({ type: "spki", format: "der" });
    expect(fromKey.equals(fromCert)).toBe(true);
  });

  it("passes openssl verify as a server certificate of this CA only", () => {
    expect(opensslVerify(ca.certPem, server.certPem, "sslserver")).toMatchObject({ status: 0 });
    expect(opensslVerify(ca.certPem, server.certPem, "sslclient").status).not.toBe(0);
    expect(opensslVerify(otherCa.certPem, server.certPem, "sslserver").status).not.toBe(0);
  });

  it("serves mutual TLS with a client certificate signed from a CSR", async () => {
    const client = await clientCertificate(ca, "agent-7");
    expect(await handshake(server, client, "localhost")).toEqual({ clientCn: "agent-7" });
    expect(await handshake(server, client, "127.0.0.1")).toEqual({ clientCn: "agent-7" });
  });

  it("makes TLS clients refuse it under a host name it does not carry", async () => {
    const client = await clientCertificate(ca, "agent-7");
    const outcome = await handshake(server, client, "elsewhere.example");
    expect(outcome.clientError).toMatchObject({ code: "ERR_TLS_CERT_ALTNAME_INVALID" });
  });

  it("lets the server refuse a client certificate from another CA", async () => {
    const stranger = await clientCertificate(otherCa, "agent-7");
    const outcome = await handshake(server, stranger, "localhost");
    expect(outcome.clientCn).toBeUndefined();
    expect(outcome.clientError?.message).toMatch(/closed the connection|alert/);
  });

  it("refuses options without any name a client could verify", async () => {
    await expect(issueServerCertificate(ca, { commonName: "s", validityDays: 1 })).rejects.toMatchObject({
      code: "PKI_INVALID_OPTIONS",
    });
    await expect(
      issueServerCertificate(ca, { commonName: "s", ipAddresses: ["300.1.1.1"], validityDays: 1 }),
    ).rejects.toMatchObject({ code: "PKI_INVALID_OPTIONS", message: expect.stringContaining("300.1.1.1") });
  });
});

async function clientCertificate(
  issuer: CertificateWithKey,
  commonName: string,
): Promise<CertificateWithKey> {
  const { keyPem, csrPem } = await createKeyAndCsr({ commonName });
  const { certPem } = await signCsr(issuer, csrPem, { commonName, validityDays: 1 });
  return { certPem, keyPem };
}

interface HandshakeOutcome {
  /** The client certificate's CN as the server saw it, when the server accepted the connection. */
  clientCn?: string;
  serverError?: Error;
  clientError?: Error;
}

/** One TLS connection with both sides verifying the other; reports what each side concluded. */
async function handshake(
  serverCert: CertificateWithKey,
  client: CertificateWithKey,
  host: string,
): Promise<HandshakeOutcome> {
  const outcome: HandshakeOutcome = {};
  const tlsServer = createServer({
    cert: serverCert.certPem,
    key: serverCert.keyPem,
    ca: ca.certPem,
    requestCert: true,
  });
  const serverDone = new Promise<void>((resolve) => {
    tlsServer.once("secureConnection", (socket) => {
      outcome.clientCn = String(socket.getPeerCertificate().subject.CN);
      socket.end("ok");
      resolve();
    });
    tlsServer.once("tlsClientError", (error) => {
      outcome.serverError = error;
      resolve();
    });
  });
  tlsServer.listen(0, "127.0.0.1");
  await once(tlsServer, "listening");
  const { port } = tlsServer.address() as AddressInfo;
  // An IP address must not be sent as SNI; Node then checks the connected host against IP SANs.
  const name = isIP(host) ? {} : { servername: host };
  const socket = connect({
    host: "127.0.0.1",
    port,
    ...name,
    ca: ca.certPem,
    cert: client.certPem,
    key: client.keyPem,
  });
  try {
    await firstReply(socket);
  } catch (error) {
    outcome.clientError = error as Error;
  } finally {
    socket.destroy();
  }
  await serverDone;
  tlsServer.close();
  return outcome;
}

/** With TLS 1.3 the client finishes its handshake before the server judges the client certificate. */
function firstReply(socket: TLSSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once("data", () => resolve());
    socket.once("error", reject);
    socket.once("close", () => reject(new Error("the server closed the connection without replying")));
  });
}
