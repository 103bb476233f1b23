/// <reference lib="dom" />
// The command log of a node (spec §10.3, the console's Commands log tab): who changed what, from where, and
// how it ended, newest first. Read through the node the browser is logged in to, for any node.
import { api } from "./api.ts";
import { usePoll } from "./poll.ts";
import { hashOf } from "./routes.ts";

export type CommandRow =
  | {
    kind: "START";
    id: number;
    at: number;
    action: string;
    module: string;
    pid: number;
    args: string;
    user?: string;
    address?: string;
  }
  | { kind: "END"; id: number; at: number; pid: number; code: number; startId?: number }
  | { kind: "I"; id: number; at: number; action: string; module: string; pid: number; message: string };

/** What a row says, for the "What" column: the command with its arguments, its exit code, or a note. */
export function commandText(r: CommandRow): string {
  if (r.kind === "START") return r.args;
  if (r.kind === "END") return `end: ${r.code === 0 ? "success" : `failed (${r.code})`}`;
  return r.message;
}

/** Who ran a command ("carol@127.0.0.1"); the local CLI's commands have no user. */
export function commandWho(r: CommandRow): string {
  if (r.kind !== "START") return "";
  if (r.user) return r.address && !r.user.includes("@") ? `${r.user}@${r.address}` : r.user;
  // The node records the caller as "-u user@address" after the command; a command forwarded by another
  // node for a console user also names that user ("... by carol@address -u node1@address").
  const by = / by (\S+@\S+)/.exec(r.args)?.[1];
  const u = / -u (\S+)$/.exec(r.args)?.[1];
  if (by && u) return `${by} via ${u}`;
  return by ?? u ?? "local";
}

export function CommandLog(props: { node: string | null; nodes: readonly string[] }) {
  const node = props.node ?? props.nodes.find(() => true) ?? null;
  const path = node ? `/api/v1/nodes/${encodeURIComponent(node)}/cmdlog?last=300` : "/api/v1/cmdlog?last=300";
  const polled = usePoll(() => api<CommandRow[]>("GET", path), [path]);
  return (
    <section aria-labelledby="cmd-title">
      <h2 id="cmd-title">Command log{node ? ` of ${node}` : ""}</h2>
      {props.nodes.length > 1 && (
        <nav class="toolbar" aria-label="node of the command log">
          {props.nodes.map((n) => (
            <a
              key={n}
              href={hashOf({ kind: "commands", node: n })}
              aria-current={n === node ? "page" : undefined}
            >
              {n}
            </a>
          ))}
        </nav>
      )}
      {polled.error && <p class="stale" role="status">Cannot read the command log: {polled.error}</p>}
      {polled.data && polled.data.length === 0 && <p>No command was recorded.</p>}
      <div class="table-wrap">
        <table class="commands">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Module</th>
              <th scope="col">What</th>
              <th scope="col">Who</th>
            </tr>
          </thead>
          <tbody>
            {(polled.data ?? []).map((r) => (
              <tr key={r.id} class={`cmd-${r.kind}`} data-kind={r.kind}>
                <td>
                  <time dateTime={new Date(r.at).toISOString()}>{new Date(r.at).toLocaleString()}</time>
                </td>
                <td>{r.kind === "END" ? "" : r.module}</td>
                <td class="what">{commandText(r)}</td>
                <td class="who">{commandWho(r)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
