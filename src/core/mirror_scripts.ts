// Which user scripts run when the application role of a node changes (spec §6 table).
// A role is what the start_xx scripts have set up: none, primary (PRIM or ALONE Ready) or second
// (SECOND Ready). ALONE <-> PRIM keeps the role, so it runs no script (spec §13 inference).

import type { AppRole, ScriptCall, ScriptName } from "./mirror_types.ts";

type Group = { readonly start: ScriptName; readonly stop: ScriptName; readonly roles: readonly AppRole[] };

// Order matters: stops undo starts in reverse order.
const groups: readonly Group[] = [
  { start: "start_both", stop: "stop_both", roles: ["primary", "second"] },
  { start: "start_sec", stop: "stop_sec", roles: ["primary", "second"] },
  { start: "start_prim", stop: "stop_prim", roles: ["primary"] },
  { start: "start_second", stop: "stop_second", roles: ["second"] },
];

/** Stop scripts run twice: graceful, then forced (spec §6); forcestop skips the graceful call. */
export function stopCalls(name: ScriptName, args: readonly [string, string, string], onlyForce = false) {
  const forced: ScriptCall = { name, args, force: true };
  return onlyForce ? [forced] : [{ name, args, force: false }, forced];
}

export function roleChangeCalls(
  from: AppRole,
  to: AppRole,
  args: readonly [string, string, string],
  onlyForce = false,
): ScriptCall[] {
  const calls: ScriptCall[] = [];
  for (const g of [...groups].reverse()) {
    if (g.roles.includes(from) && !g.roles.includes(to)) calls.push(...stopCalls(g.stop, args, onlyForce));
  }
  for (const g of groups) {
    if (!g.roles.includes(from) && g.roles.includes(to)) calls.push({ name: g.start, args, force: false });
  }
  return calls;
}

/** `restart`: stop_xx; start_xx of the current role, no state change. */
export function restartCalls(role: AppRole, args: readonly [string, string, string]): ScriptCall[] {
  if (role === "primary") {
    return [...stopCalls("stop_prim", args), { name: "start_prim", args, force: false }];
  }
  if (role === "second") {
    return [...stopCalls("stop_second", args), { name: "start_second", args, force: false }];
  }
  return [];
}
