import { join } from "node:path";
import { type Catalog, openCatalog } from "@pwdr/catalog";
import { createKeyAndCsr } from "@pwdr/pki";
import { makeTempDir } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CERTIFICATE_REVOKED } from "./agent-certificates.js";
import { renewAgentCertificate } from "./certificate-renewal.js";
import { type ControllerPki, loadOrCreateControllerPki } from "./controller-pki.js";

describe("renewAgentCertificate", () => {
  let db: Catalog;
  let close: () => Promise<void>;
  let pki: ControllerPki;
  let hostId: string;
  const presenting = "c".repeat(64);

  beforeAll(async () => {
    const dir = await makeTempDir("pwdr-renewal-");
    pki = await loadOrCreateControllerPki(dir);
    const catalog = await openCatalog({ url: `file:${join(dir, "catalog.db")}` });
    db = catalog.db;
    close = () => catalog.close();
    hostId = (await db.host.create({ data: { name: "pi-race", labels: {} } })).id;
    await db.agentCertificate.create({
      data: {
        hostId,
        serial: "0c",
        fingerprintSha256: presenting,
        notAfter: new Date(Date.now() + 3_600_000),
      },
    });
  });

  afterAll(async () => {
    await close?.();
  });

  // A revocation that lands between the check of the presenting certificate and the
  // insert of the new one: the new certificate must not survive it.
  function revokingOnInsert(target: Catalog): Catalog {
    return new Proxy(target, {
      get(obj, property, receiver) {
        if (property !== "agentCertificate") return Reflect.get(obj, property, receiver);
        const delegate = obj.agentCertificate;
        return new Proxy(delegate, {
          get(certs, name, r) {
            if (name !== "create") return Reflect.get(certs, name, r);
            return async (args: Parameters<typeof delegate.create>[0]) => {
              await certs.updateMany({ where: { hostId, revokedAt: null }, data: { revokedAt: new Date() } });
              return certs.create(args);
            };
          },
        });
      },
    });
  }

  it("revokes the new certificate when the host was revoked while it was being signed", async () => {
    const { csrPem } = await createKeyAndCsr({ commonName: "agent" });
    const deps = { db: revokingOnInsert(db), pki, certificateValidityMs: 60_000 };
    const outcome = await renewAgentCertificate(deps, { hostId, fingerprintSha256: presenting }, csrPem);
    expect(outcome).toEqual(CERTIFICATE_REVOKED);
    const rows = await db.agentCertificate.findMany({ where: { hostId } });
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.revokedAt !== null)).toBe(true);
  });

  it("refuses a revoked presenting certificate before signing anything", async () => {
    const { csrPem } = await createKeyAndCsr({ commonName: "agent" });
    const before = await db.agentCertificate.count();
    const deps = { db, pki, certificateValidityMs: 60_000 };
    const outcome = await renewAgentCertificate(deps, { hostId, fingerprintSha256: presenting }, csrPem);
    expect(outcome).toEqual(CERTIFICATE_REVOKED);
    expect(await db.agentCertificate.count()).toBe(before);
  });
});
