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

/** The agent's one config file: the host definition plus repository, schedules, retention, checks, drills. */
export const agentConfigSchema = hostDefinitionObject
  .extend({
    /** Journal, job locks and drill sandboxes live here. */
    stateDir: absolutePath.default("/var/lib/pwdr-agent"),
    logLevel: z.enum(["debug", "info", "warn", "error"]).default("info"),
    repository: z
      .strictObject({
        path: absolutePath,
        passwordFile: absolutePath.optional(),
        passwordEnv: z.string().min(1).optional(),
        /** Upper bound on bytes written to the repository per second, e.g. "5M"; none when omitted. */
        bandwidthLimit: size.optional(),
      })
      .refine((r) => Boolean(r.passwordFile) !== Boolean(r.passwordEnv), {
        message: "give exactly one of passwordFile or passwordEnv",
        path: ["passwordFile"],
      }),
    schedules: z.strictObject({
      backup: cron,
      check: cron.optional(),
      retention: cron.optional(),
      /** Restore drills: the latest recovery point into a sandbox PostgreSQL, Redis and directory, then checked. */
      drill: cron.optional(),
      /** After downtime: run each job that missed its time once at start ("once"), or wait for the next ("skip"). */
      catchUp: z.enum(["once", "skip"]).default("once"),
    }),
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
  .superRefine((config, ctx) => {
    if (config.schedules.retention && !config.retention) {
      ctx.addIssue({
        code: "custom",
        path: ["retention"],
        message: "schedules.retention is set: say what to keep here",
      });
    }
  });

export type AgentConfig = z.infer<typeof agentConfigSchema>;
export type JobName = "backup" | "check" | "retention" | "drill";
