import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ControllerMessageSchema, Hello, Job } from "@pwdr/protocol";

/** What the controller may send on a session stream (the ControllerMessage body). */
export type ControllerMessageBody = NonNullable<MessageInitShape<typeof ControllerMessageSchema>["body"]>;

/** The open agent sessions of this controller, one per host: a newer stream replaces the older. */
export interface LiveSession {
  readonly sessionId: string;
  readonly hostId: string;
  /** Ends the stream with a status the agent can act on. */
  close(code: number, reason: string): void;
  /** Writes a message to the agent; false when the stream has ended. */
  send(message: ControllerMessageBody): boolean;
}

/** What the rest of the controller does when a session greets or ends (the fleet scheduler). */
export interface SessionHooks {
  /** After the Welcome: policy update, re-queueing of lost jobs, dispatch. */
  helloed(session: LiveSession, hello: Hello): Promise<void>;
  /** After the host's current session ended (not one a newer stream replaced). */
  ended(session: LiveSession): Promise<void>;
  /** A job of the host left dispatched/running (its result was recorded): its concurrency slot is free. */
  dispatchSoon(): void;
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

  /** The host's open session on this controller, if any. */
  get(hostId: string): LiveSession | undefined {
    return this.#byHost.get(hostId);
  }

  /** The open sessions, one per host. */
  list(): LiveSession[] {
    return [...this.#byHost.values()];
  }

  /** Sends a job on the host's session; false when this controller holds none or it has ended. */
  sendJob(hostId: string, job: Job): boolean {
    return this.send(hostId, { case: "job", value: job });
  }

  /** Ends the open session of a host, if this controller holds one; its own end handler unregisters it. */
  closeHost(hostId: string, code: number, reason: string): boolean {
    const session = this.#byHost.get(hostId);
    session?.close(code, reason);
    return session !== undefined;
  }

  /** Sends to the host's open session; false when this controller holds none or it has ended. */
  send(hostId: string, message: ControllerMessageBody): boolean {
    return this.#byHost.get(hostId)?.send(message) ?? false;
  }

  closeAll(code: number, reason: string): void {
    for (const s of [...this.#byHost.values()]) s.close(code, reason);
    this.#byHost.clear();
  }
}
