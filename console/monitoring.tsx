/// <reference lib="dom" />
// Monitoring: one row per module, one tile per node with the synthetic state in its spec §2.1 colour, the
// detailed state, and (Control and Admin only) the module's local actions menu.
import { act, api, session } from "./api.ts";
import { modulePath } from "./node_paths.ts";
import { usePoll } from "./poll.ts";
import { hashOf } from "./routes.ts";
import { canAct, type ModuleState, tileView } from "./tile_state.ts";

type ModuleRow = {
  name: string;
  mode: string;
  configured: boolean;
  state: ModuleState | null;
  resources: Record<string, string>;
};
type NodeRow = { node: string; local: boolean; modules?: ModuleRow[]; error?: string };

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

export function Monitoring() {
  const polled = usePoll(() => api<NodeRow[]>("GET", "/api/v1/cluster/modules"), []);
  const rows = polled.data;
  if (!rows) {
    return (
      <section aria-labelledby="mon-title">
        <h2 id="mon-title">Monitoring</h2>
        <p role="status">{polled.error ? `Cannot read the cluster: ${polled.error}` : "Loading…"}</p>
      </section>
    );
  }
  const modules = [...new Set(rows.flatMap((r) => (r.modules ?? []).map((m) => m.name)))].sort();
  return (
    <section aria-labelledby="mon-title">
      <h2 id="mon-title">Monitoring</h2>
      {polled.error && <p class="stale" role="status">Last refresh failed: {polled.error}</p>}
      {modules.length === 0 && <p>No module is installed on these nodes.</p>}
      {modules.map((m) => (
        <section class="module" key={m} aria-label={`module ${m}`}>
          <h3>{m}</h3>
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
