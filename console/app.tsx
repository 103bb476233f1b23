/// <reference lib="dom" />
// The SafeKit browser console (spec §9.3): login, Monitoring (tiles, actions, log, resources, command log)
// for every role, Configuration (cluster.xml, modules) for Admin. Served by the node at /console/
// (src/web/console.ts).
import "./styles.css";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { lastError, logout, session, whoami } from "./api.ts";
import { knownNodes } from "./monitoring.tsx";
import { ClusterConfig } from "./cluster_config.tsx";
import { CommandLog } from "./command_log.tsx";
import { ModuleConfig, Modules } from "./module_config.tsx";
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
  const configPage = page.kind === "cluster" || page.kind === "modules" || page.kind === "module-config";
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <h1>SafeKit</h1>
        <nav aria-label="sections">
          <a
            href={hashOf({ kind: "monitoring" })}
            aria-current={!configPage && page.kind !== "commands" ? "page" : undefined}
          >
            Monitoring
          </a>
          <a
            href={hashOf({ kind: "commands", node: null })}
            aria-current={page.kind === "commands" ? "page" : undefined}
          >
            Commands log
          </a>
          {admin && (
            <a href={hashOf({ kind: "cluster" })} aria-current={page.kind === "cluster" ? "page" : undefined}>
              Configuration
            </a>
          )}
          {admin && (
            <a
              href={hashOf({ kind: "modules" })}
              aria-current={page.kind === "modules" || page.kind === "module-config" ? "page" : undefined}
            >
              Modules
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
        {page.kind === "commands" && <CommandLog node={page.node} nodes={knownNodes.value} />}
        {configPage && !admin && <p>The configuration pages need the Admin role; you are {s.role}.</p>}
        {page.kind === "cluster" && admin && <ClusterConfig />}
        {page.kind === "modules" && admin && <Modules />}
        {page.kind === "module-config" && admin && <ModuleConfig module={page.module} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
