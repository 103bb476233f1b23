/// <reference lib="dom" />
// Monitoring: one row per module, one tile per node with the synthetic state in its spec §2.1 colour, the
// detailed state, and (Control and Admin only) the module's local actions menu and the global menu (start
// all, stop all in the right order, snapshots). The data is pushed by the node (live_feed.ts).
import { signal } from "@preact/signals";
import { useEffect, useState } from "preact/hooks";
import { act, api, session } from "./api.ts";
import { lastPrimaryTime, type NodeModuleState, startAllOrder, stopAllOrder } from "./global_order.ts";
import { feedMode, useLiveFeed } from "./live_feed.ts";
import { modulePath } from "./node_paths.ts";
import { hashOf } from "./routes.ts";
import { canAct, type ModuleState, tileView } from "./tile_state.ts";

export type ModuleRow = {
  name: string;
  mode: string;
  configured: boolean;
  state: ModuleState | null;
  resources: Record<string, string>;
};
export type NodeRow = { node: string; local: boolean; modules?: ModuleRow[]; error?: string };

/** The local menu of spec §9.3, as (label, verb, body) in the order the menu shows them. */
const ACTIONS: readonly { label: string; verb: string; body?: object; mirrorOnly?: boolean }[] = [
  { label: "Start", verb: "start" },
  { label: "Stop", verb: "stop" },
  { label: "Restart", verb: "restart" },
  { label: "Swap", verb: "swap", mirrorOnly: true },
  { label: "Force start as primary", verb: "prim", mirrorOnly: true },
  { label: "Force start as secondary", verb: "second", mirrorOnly: true },
  {
    label: "Force start as secondary with full data synchronization",
    verb: "second",
    body: { fullsync: true },
    mirrorOnly: true,
  },
];

/** The cluster's nodes as the last monitoring data named them (the command log offers each). */
export const knownNodes = signal<readonly string[]>([]);

export function Monitoring() {
  const polled = useLiveFeed<NodeRow[]>("/api/v1/events", "modules", "/api/v1/cluster/modules");
  const rows = polled.data;
  const names = rows ? rows.map((r) => r.node).join("\n") : "";
  useEffect(() => {
    if (names) knownNodes.value = names.split("\n");
  }, [names]);
  const role = session.value?.role ?? "Monitor";
  if (!rows) {
    return (
      <section aria-labelledby="mon-title">
        <h2 id="mon-title">
          Monitoring <FeedBadge />
        </h2>
        <p role="status">{polled.error ? `Cannot read the cluster: ${polled.error}` : "Loading…"}</p>
      </section>
    );
  }
  const modules = [...new Set(rows.flatMap((r) => (r.modules ?? []).map((m) => m.name)))].sort();
  return (
    <section aria-labelledby="mon-title">
      <h2 id="mon-title">
        Monitoring <FeedBadge />
      </h2>
      {polled.error && <p class="stale" role="status">Last refresh failed: {polled.error}</p>}
      {modules.length === 0 && <p>No module is installed on these nodes.</p>}
      {modules.map((m) => (
        <section class="module" key={m} aria-label={`module ${m}`}>
          <div class="module-head">
            <h3>{m}</h3>
            {canAct(role) && <GlobalMenu module={m} rows={rows} refresh={polled.refresh} />}
          </div>
          <ul class="tiles">
            {rows.map((r) => (
              <Tile
                key={r.node}
                node={r}
                module={m}
                row={r.modules?.find((x) => x.name === m)}
                refresh={polled.refresh}
              />
            ))}
          </ul>
        </section>
      ))}
    </section>
  );
}

function Tile(
  props: { node: NodeRow; module: string; row: ModuleRow | undefined; refresh: () => void },
) {
  const { node, module, row } = props;
  if (!node.error && !row) return null; // the module is not installed on that node
  const view = tileView(row?.mode ?? "", row?.state ?? null, row?.resources, node.error);
  const role = session.value?.role ?? "Monitor";
  return (
    <li
      class={`tile tile-${view.colour}`}
      data-node={node.node}
      data-module={module}
      data-state={view.label}
    >
      <div class="tile-head">
        <span class="node-name">{node.node}</span>
        {node.local && <span class="badge" title="the node this console is connected to">this node</span>}
      </div>
      <div class="state" aria-label={`state of ${module} on ${node.node}`}>
        <span class={`dot dot-${view.colour}`} aria-hidden="true"></span>
        <span class="state-label">{view.label}</span>
      </div>
      <div class="detail">{node.error ? node.error : view.detail || "\u00a0"}</div>
      {row && (
        <nav class="tile-links" aria-label={`details of ${module} on ${node.node}`}>
          <a href={hashOf({ kind: "log", module, node: node.node })}>Log</a>
          <a href={hashOf({ kind: "resources", module, node: node.node })}>Resources</a>
          {canAct(role) && (
            <a href={modulePath(node.node, module, "/snapshot")} download class="snapshot">Snapshot</a>
          )}
        </nav>
      )}
      {row?.state && canAct(role) && (
        <ActionsMenu node={node.node} module={module} mode={row.mode} refresh={props.refresh} />
      )}
    </li>
  );
}

function ActionsMenu(props: { node: string; module: string; mode: string; refresh: () => void }) {
  const run = async (label: string, verb: string, body: object | undefined, menu: HTMLDetailsElement) => {
    menu.open = false;
    await act(
      `${label} ${props.module} on ${props.node}`,
      () => api("POST", modulePath(props.node, props.module, `/commands/${verb}`), body ?? {}),
    );
    props.refresh();
  };
  return (
    <details class="actions">
      <summary>Actions</summary>
      <ul role="list">
        {ACTIONS.filter((a) => !a.mirrorOnly || props.mode === "mirror").map((a) => (
          <li key={a.label}>
            <button
              type="button"
              data-verb={a.verb}
              onClick={(e) =>
                run(
                  a.label,
                  a.verb,
                  a.body,
                  (e.currentTarget as HTMLElement).closest("details") as HTMLDetailsElement,
                )}
            >
              {a.label}
            </button>
          </li>
        ))}
      </ul>
    </details>
  );
}

/** "live" while the node pushes the states, "polling" while the page asks every 2 s. */
function FeedBadge() {
  const mode = feedMode.value;
  const title = mode === "live"
    ? "states are pushed by the node as they change"
    : mode === "polling"
    ? "the live stream is not available: the page asks every 2 s"
    : "connecting to the live stream";
  return <span id="feed" class={`feed feed-${mode}`} data-mode={mode} title={title}>{mode}</span>;
}

function statesOf(rows: readonly NodeRow[], module: string): NodeModuleState[] {
  return rows.map((r) => ({
    node: r.node,
    local: r.modules?.find((x) => x.name === module)?.state?.local ?? null,
  }));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the module runs on `node` (any state but STOP), up to 30 s. */
async function waitStarted(node: string, module: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const rows = await api<NodeRow[]>("GET", "/api/v1/cluster/modules");
    const local = statesOf(rows, module).find((s) => s.node === node)?.local;
    if (local && local !== "STOP" && local !== "WAIT") return;
    await sleep(500);
  }
}

function GlobalMenu(props: { module: string; rows: readonly NodeRow[]; refresh: () => void }) {
  const [status, setStatus] = useState<string>("");
  const { module } = props;
  const run = async (kind: "start" | "stop", menu: HTMLDetailsElement | null) => {
    if (menu) menu.open = false;
    const states = statesOf(props.rows, module);
    let steps;
    if (kind === "stop") steps = stopAllOrder(states);
    else {
      const last: Record<string, number | undefined> = {};
      await Promise.all(
        states.filter((s) => s.local === "STOP").map(async (s) => {
          const r = await api<{ history?: { value: string; at: number }[] }>(
            "GET",
            modulePath(s.node, module, "/resources/state.local?history=200"),
          ).catch(() => null);
          last[s.node] = lastPrimaryTime(r?.history ?? []);
        }),
      );
      steps = startAllOrder(states, last);
    }
    if (steps.length === 0) {
      setStatus(kind === "stop" ? `${module} is already stopped everywhere` : `${module} runs everywhere`);
      return;
    }
    setStatus(
      `${kind === "stop" ? "Stopping" : "Starting"} ${module}: ${steps.map((s) => s.node).join(", then ")}`,
    );
    for (const [i, step] of steps.entries()) {
      const ok = await act(
        `${step.verb} ${module} on ${step.node}`,
        () => api("POST", modulePath(step.node, module, `/commands/${step.verb}`), {}),
      );
      if (!ok) {
        setStatus(`${kind === "stop" ? "Stop" : "Start"} all stopped at ${step.node}`);
        return;
      }
      // The first started node must be running before the others join it as secondaries.
      if (kind === "start" && i === 0 && steps.length > 1) await waitStarted(step.node, module);
      props.refresh();
    }
    setStatus(`${kind === "stop" ? "Stop" : "Start"} all done: ${steps.map((s) => s.node).join(", ")}`);
  };
  const menuOf = (e: Event) => (e.currentTarget as HTMLElement).closest("details");
  return (
    <>
      <details class="actions global">
        <summary>All nodes</summary>
        <ul role="list">
          <li>
            <button type="button" data-global="start" onClick={(e) => run("start", menuOf(e))}>
              Start all
            </button>
          </li>
          <li>
            <button type="button" data-global="stop" onClick={(e) => run("stop", menuOf(e))}>Stop all</button>
          </li>
        </ul>
      </details>
      <span class="global-status" role="status">{status}</span>
    </>
  );
}
