import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { type Catalog, openCatalog } from "@pwdr/catalog";
import { createLogger } from "@pwdr/logging";
import { makeTempDir } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CertificateWatch } from "./certificate-watch.js";

/** A stream that remembers how it was ended. */
class RecordingStream {
  ended: { code: number; reason: string } | undefined;
  close(code: number, reason: string): void {
    this.ended = { code, reason };
  }
}

describe("CertificateWatch", () => {
  let db: Catalog;
  let close: () => Promise<void>;
  const log = createLogger("watch-test", "error");
  let serial = 0;

  beforeAll(async () => {
    const catalog = await openCatalog({
      url: `file:${join(await makeTempDir("pwdr-watch-"), "catalog.db")}`,
    });
    db = catalog.db;
    close = () => catalog.close();
  });

  afterAll(async () => {
    await close?.();
  });

  async function enrolled(name: string, cert: { notAfter?: Date; revokedAt?: Date } = {}) {
    const host = await db.host.create({ data: { name, labels: {}, state: "online" } });
    const fingerprintSha256 = (++serial).toString(16).padStart(64, "0");
    await db.agentCertificate.create({
      data: {
        hostId: host.id,
        serial: serial.toString(16),
        fingerprintSha256,
        notAfter: cert.notAfter ?? new Date(Date.now() + 3_600_000),
        revokedAt: cert.revokedAt ?? null,
      },
    });
    return { hostId: host.id, fingerprintSha256 };
  }

  const manual = () => new CertificateWatch(db, { intervalMs: 3_600_000, log });

  it("ends the streams of revoked, expired, unknown and decommissioned certificates and keeps the rest", async () => {
    const watch = manual();
    const good = await enrolled("pi-good");
    const revoked = await enrolled("pi-revoked", { revokedAt: new Date() });
    const expired = await enrolled("pi-expired", { notAfter: new Date(Date.now() - 1_000) });
    const retired = await enrolled("pi-retired");
    await db.host.update({ where: { id: retired.hostId }, data: { state: "decommissioned" } });
    const streams = {
      good: new RecordingStream(),
      revoked: new RecordingStream(),
      expired: new RecordingStream(),
      retired: new RecordingStream(),
      unknown: new RecordingStream(),
    };
    watch.watch(streams.good, good.fingerprintSha256);
    watch.watch(streams.revoked, revoked.fingerprintSha256);
    watch.watch(streams.expired, expired.fingerprintSha256);
    watch.watch(streams.retired, retired.fingerprintSha256);
    watch.watch(streams.unknown, "f".repeat(64));

    expect(await watch.sweep()).toBe(4);
    expect(streams.good.ended).toBeUndefined();
    expect(streams.revoked.ended).toMatchObject({ code: grpc.status.PERMISSION_DENIED, reason: /revoked/ });
    expect(streams.expired.ended).toMatchObject({ code: grpc.status.UNAUTHENTICATED, reason: /expired/ });
    expect(streams.retired.ended).toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      reason: /decommissioned/,
    });
    expect(streams.unknown.ended).toMatchObject({ code: grpc.status.UNAUTHENTICATED, reason: /unknown/ });
    expect(watch.size).toBe(1);
    watch.close();
  });

  it("catches a revocation written after the stream opened, in a catalog of more streams than one query holds", async () => {
    const watch = manual();
    const hosts = Array.from({ length: 2_100 }, (_, i) => ({
      id: `fleet-${i}`,
      fingerprintSha256: `e${i.toString(16).padStart(63, "0")}`,
    }));
    await db.host.createMany({ data: hosts.map((h) => ({ id: h.id, name: h.id, labels: {} })) });
    await db.agentCertificate.createMany({
      data: hosts.map((h) => ({
        hostId: h.id,
        serial: `s-${h.id}`,
        fingerprintSha256: h.fingerprintSha256,
        notAfter: new Date(Date.now() + 3_600_000),
      })),
    });
    const streams = hosts.map((h) => {
      const s = new RecordingStream();
      watch.watch(s, h.fingerprintSha256);
      return s;
    });
    expect(await watch.sweep()).toBe(0);
    const last = hosts.length - 1;
    await db.agentCertificate.updateMany({
      where: { hostId: hosts[last]?.id ?? "" },
      data: { revokedAt: new Date() },
    });
    expect(await watch.sweep()).toBe(1);
    expect(streams[last]?.ended).toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    expect(streams.filter((s) => s.ended)).toHaveLength(1);
    watch.close();
  });

  it("stops watching a stream once it is unwatched", async () => {
    const watch = manual();
    const cert = await enrolled("pi-left", { revokedAt: new Date() });
    const stream = new RecordingStream();
    watch.watch(stream, cert.fingerprintSha256);
    watch.unwatch(stream);
    expect(await watch.sweep()).toBe(0);
    expect(stream.ended).toBeUndefined();
    watch.close();
  });

  it("sweeps on its own timer", async () => {
    const watch = new CertificateWatch(db, { intervalMs: 20, log });
    const cert = await enrolled("pi-timed", { revokedAt: new Date() });
    const stream = new RecordingStream();
    watch.watch(stream, cert.fingerprintSha256);
    for (let i = 0; i < 100 && !stream.ended; i++) await new Promise((r) => setTimeout(r, 20));
    expect(stream.ended).toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    watch.close();
  });
});
