/// <reference lib="dom" />
// A module's resources on one node (spec §9.3 Resources tab), grouped as SafeKit's console groups them;
// choosing a resource shows its value history (resources are stored with history, spec §2.1).
import { useState } from "preact/hooks";
import { api } from "./api.ts";
import { Breadcrumb, formatTime } from "./module_log.tsx";
import { modulePath } from "./node_paths.ts";
import { usePoll } from "./poll.ts";

type Resource = { name: string; value: string; at: number; by: string; changedAt: number };
type HistoryRow = { id: number; value: string; at: number; by: string };

const GROUPS: readonly { name: string; test: (r: string) => boolean }[] = [
  { name: "Module status", test: (r) => /^(state\.|heartbeat\.|heart\.|usersetting\.|FarmProto)/.test(r) },
  { name: "Checkers", test: (r) => /^(proc|tcp|ping|intf|ip|custom|module|splitbrain)\./.test(r) },
  { name: "File replication", test: (r) => r.startsWith("rfs.") },
];

export function groupOf(resource: string): string {
  return GROUPS.find((g) => g.test(resource))?.name ?? "Other";
}

export function Resources(props: { module: string; node: string }) {
  const [group, setGroup] = useState("All");
  const [selected, setSelected] = useState<string | null>(null);
  const polled = usePoll(
    () => api<Resource[]>("GET", modulePath(props.node, props.module, "/resources")),
    [props.node, props.module],
  );
  const shown = (polled.data ?? []).filter((r) => group === "All" || groupOf(r.name) === group);
  return (
    <section aria-labelledby="res-title">
      <Breadcrumb module={props.module} node={props.node} current="resources" />
      <h2 id="res-title">Resources of {props.module} on {props.node}</h2>
      <div class="toolbar">
        <label for="res-group">Group</label>
        <select
          id="res-group"
          value={group}
          onChange={(e) => setGroup((e.currentTarget as HTMLSelectElement).value)}
        >
          {["All", ...GROUPS.map((g) => g.name), "Other"].map((g) => <option key={g} value={g}>{g}</option>)}
        </select>
      </div>
      {polled.error && <p class="stale" role="status">Cannot read the resources: {polled.error}</p>}
      <div class="table-wrap">
        <table class="resources">
          <thead>
            <tr>
              <th scope="col">Resource</th>
              <th scope="col">Value</th>
              <th scope="col">Since</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => (
              <tr key={r.name} class={r.name === selected ? "selected" : ""}>
                <th scope="row">
                  <button
                    type="button"
                    class="link"
                    aria-pressed={r.name === selected}
                    onClick={() => setSelected(r.name === selected ? null : r.name)}
                  >
                    {r.name}
                  </button>
                </th>
                <td class={`value value-${r.value}`}>{r.value}</td>
                <td>{formatTime(r.changedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {selected && <History module={props.module} node={props.node} resource={selected} />}
    </section>
  );
}

function History(props: { module: string; node: string; resource: string }) {
  const polled = usePoll(
    () =>
      api<{ history?: HistoryRow[] }>(
        "GET",
        modulePath(props.node, props.module, `/resources/${encodeURIComponent(props.resource)}?history=50`),
      ),
    [props.node, props.module, props.resource],
  );
  const rows = [...(polled.data?.history ?? [])].sort((a, b) => b.at - a.at || b.id - a.id);
  return (
    <section class="history" aria-labelledby="hist-title">
      <h3 id="hist-title">History of {props.resource}</h3>
      {polled.error && <p class="stale" role="status">{polled.error}</p>}
      <ol>
        {rows.map((h) => (
          <li key={h.id}>
            <time dateTime={new Date(h.at).toISOString()}>{formatTime(h.at)}</time>{" "}
            <span class={`value value-${h.value}`}>{h.value}</span> <span class="by">by {h.by}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}
