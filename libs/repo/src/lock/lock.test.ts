import { spawnSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { isRepoError } from "../errors.js";
import { tempRepository } from "../test-support/fixtures.js";
import { acquireLock } from "./acquire-lock.js";
import { listLocks, removeStaleLocks } from "./list-locks.js";
import { LOCK_REFRESH_MS, LOCK_STALE_MS, type LockInfo } from "./lock-file.js";
import { withLock } from "./with-lock.js";

function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", ""]);
  return child.pid as number;
}

function foreignLock(overrides: Partial<LockInfo> = {}): LockInfo {
  const now = new Date().toISOString();
  return {
    exclusive: true,
    host: "other-host",
    pid: 4242,
    time: now,
    refreshedAt: now,
    operation: "prune",
    ...overrides,
  };
}

async function lockNames(repo: Awaited<ReturnType<typeof tempRepository>>["repo"]): Promise<string[]> {
  return (await listLocks(repo)).map((l) => l.name).sort();
}

afterEach(() => {
  vi.useRealTimers();
});

describe("locks", () => {
  it("lets shared locks coexist, and keeps exclusive and shared locks apart", async () => {
    const { repo } = await tempRepository();
    const a = await acquireLock(repo, { exclusive: false, operation: "backup" });
    const b = await acquireLock(repo, { exclusive: false, operation: "check" });
    expect(await lockNames(repo)).toEqual([a.name, b.name].sort());
    await expect(acquireLock(repo, { exclusive: true, operation: "prune" })).rejects.toMatchObject({
      code: "repo_locked",
      exitCode: 14,
    });
    await a.release();
    await b.release();
    expect(await lockNames(repo)).toEqual([]);

    const x = await acquireLock(repo, { exclusive: true, operation: "prune" });
    await expect(acquireLock(repo, { exclusive: false, operation: "backup" })).rejects.toMatchObject({
      code: "repo_locked",
    });
    await expect(acquireLock(repo, { exclusive: true, operation: "prune" })).rejects.toMatchObject({
      code: "repo_locked",
    });
    await x.release();
    await x.release();
    expect(await lockNames(repo)).toEqual([]);
  });

  it("names who holds the lock, for what and since when", async () => {
    const { repo } = await tempRepository();
    const since = "2024-05-01T10:00:00.000Z";
    await repo.saveJson(
      "locks",
      foreignLock({ time: since, pid: 777, host: "pi-north", operation: "prune" }),
    );
    const err = await acquireLock(repo, { exclusive: false, operation: "backup" }).catch((e: unknown) => e);
    expect(isRepoError(err, "repo_locked")).toBe(true);
    const message = (err as Error).message;
    for (const part of ["pi-north", "777", '"prune"', since, "exclusive", "unlock"]) {
      expect(message).toContain(part);
    }
  });

  it("waits for a conflicting lock to go away", async () => {
    const { repo } = await tempRepository();
    const held = await acquireLock(repo, { exclusive: true, operation: "prune" });
    setTimeout(() => void held.release(), 300);
    const started = Date.now();
    const lock = await acquireLock(repo, { exclusive: false, operation: "backup", waitMs: 10_000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await lock.release();
  });

  it("gives up with repo_locked once waitMs has passed", async () => {
    const { repo } = await tempRepository();
    const held = await acquireLock(repo, { exclusive: false, operation: "backup" });
    const started = Date.now();
    await expect(
      acquireLock(repo, { exclusive: true, operation: "prune", waitMs: 400 }),
    ).rejects.toMatchObject({ code: "repo_locked" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(await lockNames(repo)).toEqual([held.name]);
    await held.release();
  });

  it("ignores stale locks (dead pid on this host, or not refreshed for 30 minutes) and unlock removes only those", async () => {
    const { repo } = await tempRepository();
    const old = new Date(Date.now() - LOCK_STALE_MS - 60_000).toISOString();
    const deadHere = await repo.saveJson("locks", foreignLock({ host: hostname(), pid: deadPid() }));
    const silent = await repo.saveJson("locks", foreignLock({ refreshedAt: old }));
    // Another host's pid means nothing here: only its refresh time can make it stale.
    const liveElsewhere = await repo.saveJson("locks", foreignLock({ exclusive: false, pid: deadPid() }));

    const locks = await listLocks(repo);
    const reasons = Object.fromEntries(locks.map((l) => [l.name, l.staleReason]));
    expect(reasons[deadHere]).toMatch(/no longer runs/);
    expect(reasons[silent]).toMatch(/not refreshed for 31 minutes/);
    expect(reasons[liveElsewhere]).toBeUndefined();

    const shared = await acquireLock(repo, { exclusive: false, operation: "backup" });
    await shared.release();
    await expect(acquireLock(repo, { exclusive: true, operation: "prune" })).rejects.toMatchObject({
      code: "repo_locked",
    });

    expect((await removeStaleLocks(repo)).removed.sort()).toEqual([deadHere, silent].sort());
    expect(await lockNames(repo)).toEqual([liveElsewhere]);
    expect((await removeStaleLocks(repo, { all: true })).removed).toEqual([liveElsewhere]);
    const exclusive = await acquireLock(repo, { exclusive: true, operation: "prune" });
    await exclusive.release();
  });

  it("treats an unreadable lock file as held by anyone until unlock removes it", async () => {
    const { repo, root } = await tempRepository();
    const name = "ab".repeat(32);
    await writeFile(join(root, "locks", name), "garbage");
    const err = await acquireLock(repo, { exclusive: false, operation: "backup" }).catch((e: unknown) => e);
    expect(isRepoError(err, "repo_locked")).toBe(true);
    expect((err as Error).message).toContain(name);
    expect(await listLocks(repo)).toEqual([{ name, error: expect.stringMatching(/damaged/) }]);
    expect((await removeStaleLocks(repo)).removed).toEqual([name]);
    await (await acquireLock(repo, { exclusive: true, operation: "prune" })).release();
  });

  it("refreshes by writing a new file before removing the old one", async () => {
    const { repo } = await tempRepository();
    const lock = await acquireLock(repo, { exclusive: false, operation: "backup" });
    const first = lock.name;
    const firstRefresh = lock.info.refreshedAt;
    await new Promise((r) => setTimeout(r, 5));
    await lock.refresh();
    expect(lock.name).not.toBe(first);
    expect(lock.info.refreshedAt > firstRefresh).toBe(true);
    expect(lock.info.time).toBe(firstRefresh);
    expect(await lockNames(repo)).toEqual([lock.name]);
    await lock.release();
  });

  it("refreshes by itself every 5 minutes", async () => {
    const { repo } = await tempRepository();
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const lock = await acquireLock(repo, { exclusive: false, operation: "backup" });
    const first = lock.name;
    vi.advanceTimersByTime(LOCK_REFRESH_MS);
    await vi.waitFor(() => expect(lock.name).not.toBe(first));
    await vi.waitFor(async () => expect(await lockNames(repo)).toEqual([lock.name]));
    await lock.release();
  });

  it("is lost when its file was removed, and every later refresh fails", async () => {
    const { repo } = await tempRepository();
    const lock = await acquireLock(repo, { exclusive: true, operation: "prune" });
    await removeStaleLocks(repo, { all: true });
    await expect(lock.refresh()).rejects.toThrow(/removed/);
    await expect(lock.refresh()).rejects.toMatchObject({ code: "repo_locked" });
    await lock.release();
  });

  it("is lost when it went unrefreshed long enough for others to call it stale", async () => {
    const { repo } = await tempRepository();
    const lock = await acquireLock(repo, { exclusive: true, operation: "prune" });
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + LOCK_STALE_MS + 60_000);
    await expect(lock.refresh()).rejects.toThrow(/not refreshed for 31 minutes/);
    vi.useRealTimers();
    await lock.release();
  });

  it("lets exactly one of several racing exclusive acquirers through", async () => {
    const { repo } = await tempRepository();
    for (let round = 0; round < 3; round++) {
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, () => acquireLock(repo, { exclusive: true, operation: "prune" })),
      );
      const won = results.filter((r) => r.status === "fulfilled");
      expect(won).toHaveLength(1);
      for (const r of results)
        if (r.status === "rejected") expect(isRepoError(r.reason, "repo_locked")).toBe(true);
      await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireLock>>>).value.release();
    }
  });

  it("never lets an exclusive holder overlap with anyone while many wait", async () => {
    const { repo } = await tempRepository();
    let shared = 0;
    let exclusive = 0;
    const worker = (isExclusive: boolean) =>
      withLock(repo, { exclusive: isExclusive, operation: "test", waitMs: 60_000 }, async () => {
        if (isExclusive) exclusive++;
        else shared++;
        expect(exclusive).toBeLessThanOrEqual(1);
        if (exclusive === 1) expect(shared).toBe(0);
        await new Promise((r) => setTimeout(r, 20));
        if (isExclusive) exclusive--;
        else shared--;
      });
    await Promise.all([true, false, false, true, false, true].map(worker));
    expect(await lockNames(repo)).toEqual([]);
  });

  it("releases the lock when the locked work fails", async () => {
    const { repo } = await tempRepository();
    await expect(
      withLock(repo, { exclusive: true, operation: "prune" }, async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await lockNames(repo)).toEqual([]);
  });
});
