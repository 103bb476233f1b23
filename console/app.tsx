/// <reference lib="dom" />
// The SafeKit browser console (spec §9.3): login, Monitoring (tiles, actions, log, resources) for every
// role, Configuration (cluster.xml) for Admin. Served by the node at /console/ (src/web/console.ts).
import "./styles.css";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { lastError, logout, session, whoami } from "./api.ts";
import { ClusterConfig } from "./cluster_config.tsx";
import { Login } from "./login.tsx";
import { ModuleLog } from "./module_log.tsx";
import { Monitoring } from "./monitoring.tsx";
import { Resources } from "./resources.tsx";
import { hashOf, type Page, parseHash } from "./routes.ts";
import { canConfigure } from "./tile_state.ts";

function useHashPage(): Page {
  const [page, setPage] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => setPage(parseHash(location.hash));
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return page;
}

function App() {
  const [restoring, setRestoring] = useState(true);
  useEffect(() => {
    whoami().finally(() => setRestoring(false));
  }, []);
  const page = useHashPage();
  const s = session.value;
  if (restoring) return <p role="status">Loading…</p>;
  if (!s) return <Login />;
  const admin = canConfigure(s.role);
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <h1>SafeKit</h1>
        <nav aria-label="sections">
          <a
            href={hashOf({ kind: "monitoring" })}
            aria-current={page.kind !== "cluster" ? "page" : undefined}
          >
            Monitoring
          </a>
          {admin && (
            <a href={hashOf({ kind: "cluster" })} aria-current={page.kind === "cluster" ? "page" : undefined}>
              Configuration
            </a>
          )}
        </nav>
        <div class="who">
          <span id="whoami">{s.user} ({s.role})</span>
          <button type="button" onClick={() => logout()}>Log out</button>
        </div>
      </header>
      {lastError.value && (
        <div class="banner" role="alert">
          <span>{lastError.value}</span>
          <button type="button" aria-label="Dismiss the error" onClick={() => (lastError.value = null)}>
            ×
          </button>
        </div>
      )}
      <main id="main" tabIndex={-1}>
        {page.kind === "monitoring" && <Monitoring />}
        {page.kind === "log" && <ModuleLog module={page.module} node={page.node} />}
        {page.kind === "resources" && <Resources module={page.module} node={page.node} />}
        {page.kind === "cluster" &&
          (admin ? <ClusterConfig /> : <p>The configuration pages need the Admin role; you are {s.role}.</p>)}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
