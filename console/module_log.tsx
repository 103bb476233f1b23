/// <reference lib="dom" />
// A module's log on one node, newest last, refreshed every 2 s: the non-verbose log by default (levels
// U, E, C, S), the verbose one on demand, and a search the node applies.
import { useState } from "preact/hooks";
import { api } from "./api.ts";
import { modulePath } from "./node_paths.ts";
import { usePoll } from "./poll.ts";
import { hashOf } from "./routes.ts";

type LogRow = { id: number; at: number; component: string; level: string; message: string; line: string };

const LEVEL_NAMES: Record<string, string> = {
  U: "user",
  E: "event",
  C: "critical",
  S: "script",
  I: "information",
  D: "debug",
};

export function ModuleLog(props: { module: string; node: string }) {
  const [verbose, setVerbose] = useState(false);
  const [search, setSearch] = useState("");
  const query = new URLSearchParams({ last: "300" });
  if (verbose) query.set("verbose", "1");
  if (search.trim()) query.set("search", search.trim());
  const polled = usePoll(
    () => api<LogRow[]>("GET", modulePath(props.node, props.module, `/log?${query}`)),
    [props.node, props.module, verbose, search],
  );
  return (
    <section aria-labelledby="log-title">
      <Breadcrumb module={props.module} node={props.node} current="log" />
      <h2 id="log-title">Log of {props.module} on {props.node}</h2>
      <form class="toolbar" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          <input
            type="checkbox"
            id="log-verbose"
            checked={verbose}
            onChange={(e) => setVerbose((e.currentTarget as HTMLInputElement).checked)}
          />{" "}
          Verbose
        </label>
        <label for="log-search">Search</label>
        <input
          id="log-search"
          type="search"
          value={search}
          onInput={(e) => setSearch((e.currentTarget as HTMLInputElement).value)}
        />
      </form>
      {polled.error && <p class="stale" role="status">Cannot read the log: {polled.error}</p>}
      {polled.data && polled.data.length === 0 && <p>No message{search ? " matches" : ""}.</p>}
      <ol class="log" aria-live="polite">
        {(polled.data ?? []).map((r) => (
          <li key={r.id} class={`log-${r.level}`} title={LEVEL_NAMES[r.level] ?? r.level}>
            <time dateTime={new Date(r.at).toISOString()}>{formatTime(r.at)}</time>
            <span class="level">{r.level}</span>
            <span class="component">{r.component}</span>
            <span class="message">{r.message}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}

export function formatTime(at: number): string {
  const d = new Date(at);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${
    p(d.getMinutes())
  }:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

export function Breadcrumb(props: { module: string; node: string; current: "log" | "resources" }) {
  return (
    <nav class="breadcrumb" aria-label="breadcrumb">
      <a href={hashOf({ kind: "monitoring" })}>Monitoring</a> › {props.module} › {props.node} ›{" "}
      {props.current === "log"
        ? <span aria-current="page">Log</span>
        : <a href={hashOf({ kind: "log", module: props.module, node: props.node })}>Log</a>} ·{" "}
      {props.current === "resources"
        ? <span aria-current="page">Resources</span>
        : <a href={hashOf({ kind: "resources", module: props.module, node: props.node })}>Resources</a>}
    </nav>
  );
}
