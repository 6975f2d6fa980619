import { useEffect, useState } from "preact/hooks";
import { api, get, onSignedOut } from "./api";
import { type Route, useRoute } from "./router";
import { SessionContext } from "./session";
import type { SessionInfo } from "./types";
import { AuditView } from "./views/audit";
import { DrView } from "./views/dr";
import { DrRunView } from "./views/dr-run";
import { FleetView } from "./views/fleet";
import { HostView } from "./views/host";
import { JobView } from "./views/job";
import { PoliciesView } from "./views/policies";
import { RecoveryPointView } from "./views/recovery-point";
import { SignIn } from "./views/sign-in";
import { SnapshotView } from "./views/snapshot";

const NAV = [
  { href: "#/", label: "Fleet", section: "" },
  { href: "#/policies", label: "Policies", section: "policies" },
  { href: "#/dr", label: "DR", section: "dr" },
  { href: "#/audit", label: "Audit", section: "audit" },
];

function Page({ route }: { route: Route }) {
  const [section, id] = route.parts;
  switch (section) {
    case undefined:
      return <FleetView />;
    case "hosts":
      return <HostView id={id ?? ""} />;
    case "jobs":
      return <JobView id={id ?? ""} />;
    case "points":
      return <RecoveryPointView id={id ?? ""} />;
    case "snapshots":
      return (
        <SnapshotView
          id={id ?? ""}
          path={route.query.get("path") ?? "/"}
          pointId={route.query.get("point") ?? ""}
        />
      );
    case "policies":
      return <PoliciesView selected={id} />;
    case "dr":
      return id === "runs" ? <DrRunView id={route.parts[2] ?? ""} /> : <DrView />;
    case "audit":
      return <AuditView />;
    default:
      return (
        <p>
          No such page. <a href="#/">Back to the fleet</a>
        </p>
      );
  }
}

export function App() {
  const route = useRoute();
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);

  useEffect(() => {
    get<SessionInfo>("/session").then(setSession, () => setSession(null));
    return onSignedOut(() => setSession(null));
  }, []);

  if (session === undefined) return <p class="muted boot">Connecting…</p>;
  if (session === null) return <SignIn onSignedIn={setSession} />;

  const signOut = async () => {
    await api("DELETE", "/session").catch(() => {});
    setSession(null);
  };
  const active = route.parts[0] ?? "";
  return (
    <SessionContext.Provider value={session}>
      <header class="top">
        <a class="brand" href="#/">
          PWDR
        </a>
        <nav>
          {NAV.filter((n) => n.section !== "audit" || session.role === "admin").map((n) => (
            <a key={n.href} href={n.href} class={active === n.section ? "active" : ""}>
              {n.label}
            </a>
          ))}
        </nav>
        <div class="who">
          <span title={`role ${session.role}`}>
            {session.name} <small>({session.role})</small>
          </span>
          <button type="button" class="link" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main>
        <Page route={route} />
      </main>
    </SessionContext.Provider>
  );
}
