// The effective policy of one host as the agent receives it (proto
// pwdr.v1.AgentPolicy): what it runs by itself while the controller is away.
import { createHash } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { type AgentPolicy, AgentPolicySchema } from "@pwdr/protocol";
import { specMessage } from "./job-message.js";
import type { EffectivePolicy } from "./policy-resolution.js";
import { jitterMsOf, schedulesOf } from "./schedules.js";
import { jitterSeconds } from "./slots.js";

// Prune is not handed to agents: it runs wherever the repository allows deletes,
// which for the controller's host repositories is the controller alone.
const AGENT_SCHEDULES = new Set(["backup", "check", "drill"]);

/**
 * Builds the host's AgentPolicy; `repository` is the name the agent knows the
 * policy's repository by (empty: its repository on the controller). The
 * version is a hash of the content, so an unchanged policy keeps its version;
 * a policy without schedules has the empty version.
 */
/** The zone cron slots and windows are computed in (the process's, from TZ or the system). */
const CONTROLLER_TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

export function agentPolicy(
  hostId: string,
  policy: EffectivePolicy | undefined,
  repository: string,
): AgentPolicy {
  const jitterMs = policy ? jitterMsOf(policy) : 0;
  const schedules = (policy ? schedulesOf(policy) : [])
    .filter((s) => AGENT_SCHEDULES.has(s.name))
    .map((s) => ({
      name: s.name,
      cron: s.cron,
      jitterSeconds: jitterSeconds(hostId, s.name, jitterMs),
      template: { spec: specMessage(s.kind, s.params.spec, repository) },
      catchUp: true,
      timeZone: CONTROLLER_TIME_ZONE,
    }));
  // No schedules is "no policy": the version an agent that never had one reports.
  if (schedules.length === 0) return create(AgentPolicySchema, { version: "", schedules });
  const content = create(AgentPolicySchema, { schedules });
  const version = createHash("sha256")
    .update(toBinary(AgentPolicySchema, content))
    .digest("hex")
    .slice(0, 16);
  return create(AgentPolicySchema, { version, schedules });
}
