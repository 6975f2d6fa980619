import { join } from "node:path";
import { type Catalog, openCatalog } from "@pwdr/catalog";
import { createLogger } from "@pwdr/logging";
import { makeTempDir } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HostPresence } from "./host-presence.js";

describe("HostPresence", () => {
  let db: Catalog;
  let close: () => Promise<void>;
  const log = createLogger("presence-test", "error");
  // A flush interval no test waits for: each test flushes when it wants to.
  const manual = { flushIntervalMs: 3_600_000, bucketMs: 100, log };

  beforeAll(async () => {
    const catalog = await openCatalog({
      url: `file:${join(await makeTempDir("pwdr-presence-"), "catalog.db")}`,
    });
    db = catalog.db;
    close = () => catalog.close();
  });

  afterAll(async () => {
    await close?.();
  });

  async function newHost(name: string, state = "offline"): Promise<string> {
    return (await db.host.create({ data: { name, labels: {}, state } })).id;
  }

  const row = (id: string) => db.host.findUniqueOrThrow({ where: { id } });

  it("writes nothing until a flush, then each host's heartbeat time rounded up to its bucket", async () => {
    const [a, b] = [await newHost("pi-a"), await newHost("pi-b")];
    const presence = new HostPresence(db, manual);
    const t = Date.UTC(2026, 0, 1, 12, 0, 0, 0);
    presence.seen(a, t + 1_010);
    presence.seen(b, t + 1_250);
    expect((await row(a)).lastSeenAt).toBeNull();
    await presence.flush();
    expect(await row(a)).toMatchObject({ state: "online", lastSeenAt: new Date(t + 1_100) });
    // The newest heartbeat of a batch is not rounded past itself.
    expect(await row(b)).toMatchObject({ state: "online", lastSeenAt: new Date(t + 1_250) });
    await presence.close();
  });

  it("keeps only the latest event of a host: a disconnect after a heartbeat leaves it offline", async () => {
    const id = await newHost("pi-gone", "online");
    const presence = new HostPresence(db, manual);
    presence.seen(id);
    presence.offline(id);
    await presence.flush();
    expect((await row(id)).state).toBe("offline");
    presence.offline(id);
    presence.seen(id, Date.now());
    await presence.close();
    expect((await row(id)).state).toBe("online");
  });

  it("marks offline a host left online that has not been heard from for three beats", async () => {
    const now = Date.now();
    const silent = await db.host.create({
      data: { name: "pi-silent", labels: {}, state: "online", lastSeenAt: new Date(now - 60_000) },
    });
    const fresh = await db.host.create({
      data: { name: "pi-fresh", labels: {}, state: "online", lastSeenAt: new Date(now - 5_000) },
    });
    const beating = await db.host.create({
      data: { name: "pi-beating", labels: {}, state: "online", lastSeenAt: new Date(now - 60_000) },
    });
    const presence = new HostPresence(db, { ...manual, silentAfterMs: 30_000 });
    presence.seen(beating.id, now);
    await presence.flush();
    expect((await row(silent.id)).state).toBe("offline");
    expect((await row(fresh.id)).state).toBe("online");
    expect((await row(beating.id)).state).toBe("online");
    await presence.close();
  });

  it("never brings a decommissioned host back online", async () => {
    const id = await newHost("pi-retired", "decommissioned");
    const presence = new HostPresence(db, manual);
    presence.seen(id);
    await presence.close();
    expect(await row(id)).toMatchObject({ state: "decommissioned", lastSeenAt: null });
  });

  it("settle drops the host's pending event so a Hello written after it stands", async () => {
    const id = await newHost("pi-back", "online");
    const presence = new HostPresence(db, manual);
    presence.offline(id);
    await presence.settle(id);
    await db.host.update({ where: { id }, data: { state: "online" } });
    await presence.close();
    expect((await row(id)).state).toBe("online");
  });

  it("writes thousands of hosts in one flush", async () => {
    const ids = Array.from({ length: 2_500 }, (_, i) => `bulk-${i}`);
    await db.host.createMany({ data: ids.map((id) => ({ id, name: id, labels: {} })) });
    const presence = new HostPresence(db, manual);
    const at = Date.now();
    for (const id of ids) presence.seen(id, at);
    await presence.close();
    const online = await db.host.count({ where: { name: { startsWith: "bulk-" }, state: "online" } });
    expect(online).toBe(ids.length);
  });

  it("flushes on its own timer", async () => {
    const id = await newHost("pi-timer");
    const presence = new HostPresence(db, { flushIntervalMs: 20, log });
    presence.seen(id);
    for (let i = 0; i < 100 && (await row(id)).state !== "online"; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect((await row(id)).state).toBe("online");
    await presence.close();
  });
});
