// The assess step: checks made before anything on the replacement is touched.
import type { Catalog, Host } from "@pwdr/catalog";
import type { SourceKind } from "@pwdr/protocol";
import { CONTROLLER_REPOSITORY_KIND } from "../fleet-storage/host-repositories.js";
import { catalogSourceKind } from "../jobs/run-states.js";
import type { SessionRegistry } from "../session-registry.js";
import type { Assessment, DrillMode } from "./plan-types.js";
import { versionProblem } from "./versions.js";

/** Free space needed beyond the restored bytes: WAL replay, AOF rewrite, temporary files. */
export const DISK_MARGIN = 1.2;
export const ACTIVE_RUN_STATES = ["running", "cancelling"];

export interface HostRestoreSubject {
  failed: Host;
  replacement: Host;
  /** Source name -> version at backup time (RecoveryPoint.versions). */
  versions: Record<string, string>;
  sources: { name: string; kind: string }[];
  totalBytes: number;
  /** The run being assessed, left out of the "another DR is running" check. */
  runId?: string;
  /** A fleet drill onto `replacement`: the source host keeps running, and a sandbox brings its own servers. */
  drill?: DrillMode;
}

interface Deps {
  db: Catalog;
  sessions: SessionRegistry;
}

type Check = Assessment["checks"][number];

interface FactSource {
  name: string;
  kind: string | undefined;
  version: string;
}

function factSources(host: Host): FactSource[] {
  const sources = (host.facts as { sources?: { name?: string; kind?: unknown; version?: string }[] } | null)
    ?.sources;
  return (sources ?? []).map((s) => ({
    name: s.name ?? "",
    kind:
      typeof s.kind === "number" ? catalogSourceKind(s.kind as SourceKind) : (s.kind as string | undefined),
    version: s.version ?? "",
  }));
}

function diskFree(host: Host): number {
  const value = (host.facts as { diskFreeBytes?: unknown } | null)?.diskFreeBytes;
  return typeof value === "number" ? value : 0;
}

function identityChecks(subject: HostRestoreSubject, online: boolean): Check[] {
  const { failed, replacement } = subject;
  const role = subject.drill ? "drill target" : "replacement";
  return [
    {
      name: "distinct-hosts",
      ok: failed.id !== replacement.id,
      detail:
        failed.id !== replacement.id
          ? subject.drill
            ? `${replacement.name} drills ${failed.name}'s recovery point`
            : `${replacement.name} replaces ${failed.name}`
          : `the ${role} is ${failed.name} itself; pick another agent (enroll a new one if needed)`,
    },
    {
      name: "replacement-usable",
      ok: replacement.state !== "decommissioned",
      detail:
        replacement.state !== "decommissioned"
          ? `${replacement.name} is ${replacement.state}`
          : `the ${role} ${replacement.name} is decommissioned; enroll a new agent`,
    },
    {
      name: "replacement-online",
      ok: online,
      detail: online
        ? `${replacement.name} has a live session`
        : `the ${role} ${replacement.name} has no live session with this controller; start its agent and retry`,
    },
  ];
}

function diskCheck(subject: HostRestoreSubject): Check {
  const free = diskFree(subject.replacement);
  const needed = Math.ceil(subject.totalBytes * DISK_MARGIN);
  return {
    name: "disk-space",
    ok: free >= needed,
    detail:
      free >= needed
        ? `${free} bytes free, ${needed} needed (${subject.totalBytes} restored + 20%)`
        : `the ${subject.drill ? "drill target" : "replacement"} ${subject.replacement.name} has ${free} bytes free but the restore needs ${needed} (${subject.totalBytes} bytes + 20% margin); free space or pick a bigger host`,
  };
}

function versionChecks(subject: HostRestoreSubject): Check[] {
  const available = factSources(subject.replacement);
  const checks: Check[] = [];
  for (const source of subject.sources) {
    if (source.kind !== "postgres" && source.kind !== "redis") continue;
    const backedUp = subject.versions[source.name];
    if (!backedUp) continue;
    const candidates = available.filter((s) => s.kind === source.kind && s.version);
    const target = candidates.find((s) => s.name === source.name) ?? candidates[0];
    const name = `version:${source.name}`;
    if (!target) {
      checks.push({
        name,
        ok: false,
        detail: `the replacement ${subject.replacement.name} reports no ${source.kind} server for ${source.name} (backed up from ${backedUp}); install and configure it so the agent discovers it`,
      });
      continue;
    }
    const problem = versionProblem(source.kind, backedUp, target.version);
    checks.push({
      name,
      ok: !problem,
      detail: problem ?? `${source.kind} ${target.version} takes ${backedUp}`,
    });
  }
  return checks;
}

async function conflictCheck(deps: Deps, subject: HostRestoreSubject): Promise<Check> {
  const { failed, replacement } = subject;
  const busy = await deps.db.drRun.findFirst({
    where: {
      state: { in: ACTIVE_RUN_STATES },
      ...(subject.runId ? { id: { not: subject.runId } } : {}),
      OR: [
        { failedHostId: { in: [failed.id, replacement.id] } },
        { replacementHostId: { in: [failed.id, replacement.id] } },
      ],
    },
  });
  return {
    name: "no-other-run",
    ok: !busy,
    detail: busy
      ? `DR run ${busy.id} (${busy.state}) already involves ${failed.name} or ${replacement.name}; wait for it or cancel it`
      : "no other DR run involves these hosts",
  };
}

/** The point is read from the host's repository on the controller: one the host keeps itself is out of reach. */
async function repositoryCheck(deps: Deps, failed: Host): Promise<Check> {
  const repository = await deps.db.repository.findUnique({ where: { name: failed.id } });
  const ok = repository?.kind === CONTROLLER_REPOSITORY_KIND;
  return {
    name: "repository-on-controller",
    ok,
    detail: ok
      ? `${failed.name}'s repository is stored on the controller`
      : `${failed.name}'s backups are not in a repository on the controller, so another agent cannot read them; give its policy the controller's storage`,
  };
}

/** Checks the replacement can take the failed host's recovery point; touches nothing. */
export async function assessHostRestore(deps: Deps, subject: HostRestoreSubject): Promise<Assessment> {
  const online = deps.sessions.get(subject.replacement.id) !== undefined;
  const checks = [
    ...identityChecks(subject, online),
    ...(subject.drill
      ? []
      : [
          {
            name: "failed-host-usable",
            ok: subject.failed.state !== "decommissioned",
            detail:
              subject.failed.state !== "decommissioned"
                ? `${subject.failed.name} keeps its identity`
                : `the failed host ${subject.failed.name} is decommissioned; its identity cannot be taken over`,
          },
        ]),
    await repositoryCheck(deps, subject.failed),
    diskCheck(subject),
    // A sandbox runs the target's own server binaries; a drill that cannot load the dump fails saying so.
    ...(subject.drill === "sandbox" ? [] : versionChecks(subject)),
    await conflictCheck(deps, subject),
  ];
  return assessmentOf(checks);
}

export function assessmentOf(checks: Check[]): Assessment {
  const problems = checks.filter((c) => !c.ok).map((c) => c.detail);
  return { ok: problems.length === 0, problems, checks };
}

/** Every host of a multi-host plan must be usable and online. */
export function assessPlanHosts(sessions: SessionRegistry, hosts: Host[]): Assessment {
  return assessmentOf(
    hosts.map((h) => {
      const online = sessions.get(h.id) !== undefined;
      const usable = h.state !== "decommissioned";
      return {
        name: `host:${h.name}`,
        ok: usable && online,
        detail: !usable
          ? `host ${h.name} is decommissioned`
          : online
            ? `${h.name} has a live session`
            : `host ${h.name} has no live session with this controller; start its agent and retry`,
      };
    }),
  );
}
