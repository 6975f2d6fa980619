import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Role, SessionInfo } from "./types";

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export const SessionContext = createContext<SessionInfo | undefined>(undefined);

/** Whether the signed-in token's role reaches `needed` (the API checks again; this only hides buttons). */
export function useCan(needed: Role): boolean {
  const session = useContext(SessionContext);
  return session !== undefined && RANK[session.role] >= RANK[needed];
}
