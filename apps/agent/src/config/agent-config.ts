import { isAbsolute } from "node:path";
import { hostDefinitionObject, uniqueSourceNames } from "@pwdr/host";
import { Cron } from "croner";
import { z } from "zod";
import { parseSize } from "../commands/parse-units.js";

const absolutePath = z.string().refine(isAbsolute, { message: "must be an absolute path" });

/** Five fields (minute precision) or six (seconds first), as croner reads them. */
const cron = z.string().superRefine((expr, ctx) => {
  try {
    new Cron(expr, { paused: true });
  } catch (err) {
    ctx.addIssue({ code: "custom", message: `not a cron expression: ${(err as Error).message}` });
  }
});

const size = z.string().superRefine((text, ctx) => {
  try {
    if (parseSize(text, "size") <= 0) ctx.addIssue({ code: "custom", message: "must be more than 0" });
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
  }
});

const keep = z.number().int().min(0).optional();

/**
 * Where backups go: a local path with its password (path + passwordFile|passwordEnv), or
 * `controller: true`, the controller's storage reached with the identity that
 * `pwdr-agent enroll` left in `dataDir` (the controller holds the password).
 */
const repositorySchema = z
  .strictObject({
    path: absolutePath.optional(),
    passwordFile: absolutePath.optional(),
    passwordEnv: z.string().min(1).optional(),
    controller: z.literal(true).optional(),
    /** The agent's data dir (`enroll --data-dir`); stateDir when omitted. */
    dataDir: absolutePath.optional(),
    /** Upper bound on bytes written to the repository per second, e.g. "5M"; none when omitted. */
    bandwidthLimit: size.optional(),
  })
  .superRefine(checkRepositoryForm);

function checkRepositoryForm(
  r: Partial<Record<"path" | "passwordFile" | "passwordEnv" | "dataDir", string | undefined>> & {
    controller?: true | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  const issue = (key: string, message: string) => ctx.addIssue({ code: "custom", path: [key], message });
  if (Boolean(r.path) === Boolean(r.controller)) {
    issue(r.path ? "controller" : "path", "give exactly one of path or controller: true");
    return;
  }
  if (r.controller) {
    if (r.passwordFile) issue("passwordFile", CONTROLLER_HOLDS_PASSWORD);
    if (r.passwordEnv) issue("passwordEnv", CONTROLLER_HOLDS_PASSWORD);
    return;
  }
  if (r.dataDir) issue("dataDir", "dataDir is for controller: true; a local repository does not use it");
  if (Boolean(r.passwordFile) === Boolean(r.passwordEnv)) {
    issue("passwordFile", "give exactly one of passwordFile or passwordEnv");
  }
}

const CONTROLLER_HOLDS_PASSWORD =
  "the controller holds the password of the repositories it stores; remove this";

/**
 * The agent's access to a controller-stored repository is append-only (it
 * cannot delete, so cannot forget or prune): retention is the controller's.
 */
function noRetentionOnController(
  config: {
    repository: { controller?: true | undefined };
    retention?: object | undefined;
    schedules?: { retention?: string | undefined } | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  if (!config.repository.controller) return;
  const message =
    "the repository is stored on the controller, where this agent may only add data: prune runs on the controller; remove this";
  if (config.retention) ctx.addIssue({ code: "custom", path: ["retention"], message });
  if (config.schedules?.retention)
    ctx.addIssue({ code: "custom", path: ["schedules", "retention"], message });
}

/** The agent's one config file: the host definition plus repository, schedules, retention, checks, drills. */
export const agentConfigSchema = hostDefinitionObject
  .extend({
    /** Journal, job locks and drill sandboxes live here. */
    stateDir: absolutePath.default("/var/lib/pwdr-agent"),
    logLevel: z.enum(["debug", "info", "warn", "error"]).default("info"),
    repository: repositorySchema,
    /**
     * The controller this agent reports to, with the identity `pwdr-agent enroll`
     * left in `dataDir` (stateDir when omitted). Its policy then provides the
     * schedules; the config's apply only until a first policy arrives.
     */
    controller: z
      .strictObject({
        dataDir: absolutePath.optional(),
        /** At start-up, how long to wait for the controller before catching up missed policy runs locally. */
        catchUpGraceMs: z.number().int().min(0).default(20_000),
      })
      .optional(),
    schedules: z
      .strictObject({
        backup: cron,
        check: cron.optional(),
        retention: cron.optional(),
        /** Restore drills: the latest recovery point into a sandbox PostgreSQL, Redis and directory, then checked. */
        drill: cron.optional(),
        /** After downtime: run each job that missed its time once at start ("once"), or wait for the next ("skip"). */
        catchUp: z.enum(["once", "skip"]).default("once"),
      })
      .optional(),
    retention: z
      .strictObject({
        keepLast: keep,
        keepHourly: keep,
        keepDaily: keep,
        keepWeekly: keep,
        keepMonthly: keep,
        keepYearly: keep,
        /** Also prune after forgetting (frees the space). */
        prune: z.boolean().default(true),
      })
      .optional(),
    verify: z
      .strictObject({
        /** Share of pack data `check` reads each time: "n/t", "5%", or a size such as "500M". */
        readDataSubset: z.string().min(1).default("5%"),
      })
      .prefault({}),
    drills: z
      .strictObject({
        /**
         * Where sandboxes are made (on disk: a sandbox holds a copy of the
         * database). As root, the postgres user must be able to enter it and
         * every directory above it, which the private stateDir does not allow.
         */
        workDir: absolutePath.default("/var/tmp/pwdr-drills"),
      })
      .prefault({}),
    retry: z
      .strictObject({
        attempts: z.number().int().min(1).default(5),
        initialDelayMs: z.number().int().min(0).default(30_000),
        maxDelayMs: z.number().int().min(0).default(600_000),
      })
      .prefault({}),
    /** Prometheus metrics on 127.0.0.1:<port>/metrics; off when omitted. */
    metrics: z.strictObject({ port: z.number().int().min(1).max(65535) }).optional(),
    /** How long SIGTERM waits for a running job before abandoning it (the repository stays valid either way). */
    shutdownGraceMs: z.number().int().min(0).default(60_000),
  })
  .superRefine(uniqueSourceNames)
  .superRefine(noRetentionOnController)
  .superRefine((config, ctx) => {
    if (!config.schedules && !config.controller) {
      ctx.addIssue({
        code: "custom",
        path: ["schedules"],
        message: "give schedules (at least schedules.backup), or a controller whose policy provides them",
      });
    }
    if (config.schedules?.retention && !config.retention && !config.repository.controller) {
      ctx.addIssue({
        code: "custom",
        path: ["retention"],
        message: "schedules.retention is set: say what to keep here",
      });
    }
  });

export type AgentConfig = z.infer<typeof agentConfigSchema>;
export type Schedules = NonNullable<AgentConfig["schedules"]>;
export type JobName = "backup" | "check" | "retention" | "drill";
