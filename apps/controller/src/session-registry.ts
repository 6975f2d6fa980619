import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ControllerMessageSchema } from "@pwdr/protocol";

/** One message to an agent: a job, a cancel, a policy update, … */
export type ControllerMessageBody = NonNullable<MessageInitShape<typeof ControllerMessageSchema>["body"]>;

/** The open agent sessions of this controller, one per host: a newer stream replaces the older. */
export interface LiveSession {
  readonly sessionId: string;
  readonly hostId: string;
  /** Ends the stream with a status the agent can act on. */
  close(code: number, reason: string): void;
  send(message: ControllerMessageBody): void;
}

export class SessionRegistry {
  readonly #byHost = new Map<string, LiveSession>();

  /** Registers a session and closes the one it replaces, if any. */
  add(session: LiveSession, replacedReason: string, replacedCode: number): void {
    const previous = this.#byHost.get(session.hostId);
    this.#byHost.set(session.hostId, session);
    previous?.close(replacedCode, replacedReason);
  }

  /** Removes the session; returns false when a newer session already took its place. */
  remove(session: LiveSession): boolean {
    if (this.#byHost.get(session.hostId) !== session) return false;
    this.#byHost.delete(session.hostId);
    return true;
  }

  /** Ends the open session of a host, if this controller holds one; its own end handler unregisters it. */
  closeHost(hostId: string, code: number, reason: string): boolean {
    const session = this.#byHost.get(hostId);
    session?.close(code, reason);
    return session !== undefined;
  }

  /** Sends to the host's open session; false when this controller holds none for it. */
  send(hostId: string, message: ControllerMessageBody): boolean {
    const session = this.#byHost.get(hostId);
    session?.send(message);
    return session !== undefined;
  }

  closeAll(code: number, reason: string): void {
    for (const s of [...this.#byHost.values()]) s.close(code, reason);
    this.#byHost.clear();
  }
}
