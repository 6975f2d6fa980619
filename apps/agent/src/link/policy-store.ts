import { readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { fromJsonString, toJsonString } from "@bufbuild/protobuf";
import type { Logger } from "@pwdr/logging";
import { writeFileAtomic } from "@pwdr/pki";
import { type AgentPolicy, AgentPolicySchema } from "@pwdr/protocol";

/**
 * The last policy the controller sent, in `<stateDir>/policy.json`
 * (protobuf JSON), replaced atomically: the agent follows it while the
 * controller is away, also across restarts.
 */
export class PolicyStore {
  readonly path: string;

  constructor(
    stateDir: string,
    private readonly log: Logger,
  ) {
    this.path = join(stateDir, "policy.json");
  }

  async save(policy: AgentPolicy): Promise<void> {
    await writeFileAtomic(
      this.path,
      `${toJsonString(AgentPolicySchema, policy, { prettySpaces: 2 })}\n`,
      0o600,
    );
  }

  /** The stored policy; none when there is no file or it cannot be read (then moved aside and logged). */
  async load(): Promise<AgentPolicy | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
    try {
      return fromJsonString(AgentPolicySchema, text);
    } catch (err) {
      const aside = `${this.path}.rejected`;
      await rename(this.path, aside);
      this.log.error(
        "unreadable stored policy moved aside; the config's schedules apply until the controller sends one",
        {
          movedTo: aside,
          reason: (err as Error).message,
        },
      );
      return undefined;
    }
  }
}
