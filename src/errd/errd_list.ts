// SAFEVAR/modules/AM/errdlist (spec §3.6: "`safekit errd list -m AM` (full list in .../errdlist)"): what errd
// monitors and how each process stands, one line per <proc>, rewritten whenever a line changes. SafeKit
// does not document the format; ours is `key=value` words an administrator can read and grep.
import type { ErrdConfig } from "../config/mod.ts";
import type { ErrdState } from "./errd_automaton.ts";

/**
 * `counts`: matching processes per <proc> at the last poll (null before the first one).
 * A line reads e.g.
 * `proc.sleep class=prim enabled=yes count=1 atleast=1 atmax=-1 action=restart state=up name=sleep`.
 */
export function errdListText(config: ErrdConfig, state: ErrdState, counts: readonly number[] | null): string {
  const lines = [`# errd ${state.on ? "on" : "off"} (usersetting.errd), polltimer ${config.pollTimerMs} ms`];
  config.procs.forEach((p, i) => {
    const s = state.procs[i];
    const value = !state.on || !s.enabled ? "off" : s.ok === null ? "init" : s.ok ? "up" : "down";
    const words = [
      p.resource,
      `class=${p.class}`,
      `enabled=${s.enabled ? "yes" : "no"}`,
      `count=${counts?.[i] ?? "-"}`,
      `atleast=${p.atLeast}`,
      `atmax=${p.atMax}`,
      `action=${p.action.kind === "handler" ? p.action.exe : p.action.kind}`,
      `state=${value}`,
      ...(p.service ? ["service=yes"] : []),
      ...(p.startAfter !== undefined ? [`start_after=${p.startAfter}`] : []),
      ...(s.handlerRunning ? ["handler=running"] : []),
      `name=${p.name}`,
      ...(p.nameRegex !== undefined ? [`nameregex=${p.nameRegex}`] : []),
      ...(p.argRegex !== undefined ? [`argregex=${p.argRegex}`] : []),
    ];
    lines.push(words.join(" "));
  });
  return lines.join("\n") + "\n";
}
