// A controller stopped in the middle of a DR run resumes it from the catalog:
// the step in flight keeps waiting for its job, the rest start afterwards.
import { createLogger } from "@pwdr/logging";
import { makeTempDir, startPostgres } from "@pwdr/test-harness";
import { afterAll, expect, it } from "vitest";
import { type RunningController, startController } from "../controller-server.js";
import { planHostRestore } from "./host-restore-plan.js";
import { startRun } from "./start-run.js";
import { replacementAgent, seedFailedHost, until } from "./test-support/dr-fixture.js";

let controller: RunningController | undefined;
const stops: (() => Promise<void>)[] = [];

const start = (dataDir: string, catalogUrl: string | undefined) =>
  startController({
    dataDir,
    ...(catalogUrl ? { catalogUrl } : {}),
    schedulerIntervalMs: 3_600_000,
    drIntervalMs: 200,
    repositoryKdf: { N: 1024, r: 8, p: 1 },
    log: createLogger("controller", "error"),
  });

afterAll(async () => {
  await controller?.close();
  for (const stop of stops) await stop();
});

async function catalogUrlOf(provider: "sqlite" | "postgres"): Promise<string | undefined> {
  if (provider === "sqlite") return undefined;
  const server = await startPostgres();
  stops.push(() => server.stop());
  return server.createDatabase("dr_restart");
}

it.each(["sqlite", "postgres"] as const)(
  "resumes a run after a controller restart; every step's job runs once (%s)",
  async (provider) => {
    const dataDir = await makeTempDir("pwdr-dr-restart-");
    const catalogUrl = await catalogUrlOf(provider);
    const first = await start(dataDir, catalogUrl);
    controller = first;
    const failed = await seedFailedHost(first, "restart-a");
    const agent = await replacementAgent(first, "restart-b", { hold: true });
    const plan = await planHostRestore(
      { db: first.db, sessions: first.sessions },
      {
        failedHost: failed.hostId,
        replacementHost: agent.enrolled.hostId,
      },
    );
    const run = await startRun(first.db, plan, "test");
    first.dr.wake();
    await until(() => agent.ran.length === 1, "the first step's job on the agent");

    await first.close();
    await agent.ended;
    const second = await start(dataDir, catalogUrl);
    controller = second;
    agent.connect(second);
    await until(() => second.sessions.get(agent.enrolled.hostId) !== undefined, "agent back");
    const takenOver = agent.ended;
    agent.release();
    await takenOver;
    agent.connect(second);

    await until(
      async () => (await second.db.drRun.findUniqueOrThrow({ where: { id: run.id } })).state !== "running",
      "run over",
    );
    const done = await second.db.drRun.findUniqueOrThrow({ where: { id: run.id }, include: { steps: true } });
    expect(done.state).toBe("succeeded");
    expect(done.steps.every((s) => s.state === "succeeded" && s.attempt === 1)).toBe(true);
    const agentSteps = done.steps.filter((s) => s.hostId !== null);
    expect(new Set(agent.ran).size).toBe(agent.ran.length);
    expect(agent.ran.sort()).toEqual(agentSteps.map((s) => s.jobId).sort());
    expect(await second.db.job.count({ where: { hostId: agent.enrolled.hostId } })).toBe(agentSteps.length);
    agent.disconnect();
    await second.close();
    controller = undefined;
  },
  60_000,
);
