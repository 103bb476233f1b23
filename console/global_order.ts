/// <reference lib="dom" />
// The order of the global menu's Start all / Stop all (spec §9.3) for one module on every node. Pure, so
// the order is tested without a cluster.
//  - Stop all: the secondaries (and anything not primary) first, the primary last, so the primary never
//    sees its secondary vanish and the application moves nowhere.
//  - Start all: the node that was primary last goes first (its data is the most recent one), then the
//    others once it runs; a farm has no primary, so its nodes start in node order.

export type NodeModuleState = { readonly node: string; readonly local: string | null };

const PRIMARY = new Set(["PRIM", "ALONE"]);

export type GlobalStep = { readonly node: string; readonly verb: "start" | "stop" };

/** The nodes to stop, in order; nodes already stopped or without the module are left out. */
export function stopAllOrder(states: readonly NodeModuleState[]): GlobalStep[] {
  const running = states.filter((s) => s.local !== null && s.local !== "STOP");
  const rank = (s: NodeModuleState) => (PRIMARY.has(s.local!) ? 1 : 0);
  return [...running]
    .sort((a, b) => rank(a) - rank(b)) // stable: node order inside each group
    .map((s) => ({ node: s.node, verb: "stop" }));
}

/**
 * The nodes to start, in order: the stopped node whose last PRIM or ALONE state is newest first.
 * `lastPrimaryAt` maps a node to when it was last primary (absent: never, or unknown).
 */
export function startAllOrder(
  states: readonly NodeModuleState[],
  lastPrimaryAt: Readonly<Record<string, number | undefined>>,
): GlobalStep[] {
  const stopped = states.filter((s) => s.local === "STOP");
  const when = (n: string) => lastPrimaryAt[n] ?? -Infinity;
  return [...stopped]
    .sort((a, b) => (when(b.node) === when(a.node) ? 0 : when(b.node) > when(a.node) ? 1 : -1))
    .map((s) => ({ node: s.node, verb: "start" }));
}

/** When a node was last primary, from its `state.local` history (values like "PRIM Ready"). */
export function lastPrimaryTime(history: readonly { value: string; at: number }[]): number | undefined {
  let last: number | undefined;
  for (const h of history) {
    const local = String(h.value).split(" ")[0];
    if (PRIMARY.has(local) && (last === undefined || h.at > last)) last = h.at;
  }
  return last;
}
