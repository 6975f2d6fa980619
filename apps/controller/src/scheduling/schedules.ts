// The schedules an effective policy defines and the job each one creates.
import type { JobKind } from "@pwdr/catalog";
import { parseDuration } from "../duration.js";
import type { EffectivePolicy } from "./policy-resolution.js";

/** A policy schedule's name, as in Job.schedule and slot keys. */
export type ScheduleName = "backup" | "check" | "drill" | "prune";

export interface RetryParams {
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/** Job.params of a scheduled job (the fleet job contract). */
export interface ScheduledJobParams {
  spec: Record<string, unknown>;
  retry: RetryParams;
  timeoutMs: number;
}

export interface PolicySchedule {
  name: ScheduleName;
  cron: string;
  kind: JobKind;
  params: ScheduledJobParams;
}

export const DEFAULT_RETRY: RetryParams = { attempts: 3, initialDelayMs: 30_000, maxDelayMs: 600_000 };

/** How long an agent may take before it abandons a scheduled job. */
export const SCHEDULED_JOB_TIMEOUT_MS = 6 * 3_600_000;

function retryOf(policy: EffectivePolicy): RetryParams {
  const retry = policy.scheduling.retry;
  if (!retry) return DEFAULT_RETRY;
  return {
    attempts: retry.attempts,
    initialDelayMs: parseDuration(retry.initialDelay, "initialDelay"),
    maxDelayMs: parseDuration(retry.maxDelay, "maxDelay"),
  };
}

function specs(
  policy: EffectivePolicy,
): [ScheduleName, string | undefined | null, JobKind, Record<string, unknown>][] {
  const { verification, scheduling, sources, retention } = policy;
  return [
    ["backup", policy.schedule, "backup", sources ? { sources: sources.map((s) => s.name) } : {}],
    [
      "check",
      verification.checkSchedule,
      "verify",
      verification.readDataSubset ? { readDataSubset: verification.readDataSubset } : {},
    ],
    ["drill", verification.drillSchedule, "drill", {}],
    // Pruning without retention rules would have nothing to go by.
    ["prune", retention ? scheduling.pruneSchedule : undefined, "prune", { retention }],
  ];
}

/** The schedules the policy sets, each with the job it creates. */
export function schedulesOf(policy: EffectivePolicy): PolicySchedule[] {
  const retry = retryOf(policy);
  return specs(policy).flatMap(([name, cron, kind, spec]) =>
    cron ? [{ name, cron, kind, params: { spec, retry, timeoutMs: SCHEDULED_JOB_TIMEOUT_MS } }] : [],
  );
}

export function jitterMsOf(policy: EffectivePolicy): number {
  const jitter = policy.scheduling.jitter;
  return jitter ? parseDuration(jitter, "jitter") : 0;
}

export function slotKey(schedule: ScheduleName, slot: Date): string {
  return `${schedule}@${slot.toISOString()}`;
}
