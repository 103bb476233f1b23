// The failover machine (spec §5, §2.2 "Checker-driven transitions"): evaluates the rules at each
// tick (the driver ticks every `period`) and applies an action only once its rule has fired at
// every evaluation for `handle_time`. Pure: time and resources come in, effects go out.
//
// Decisions (the spec leaves them open; see docs/failover-rules.md):
// - Stability is measured in time (now - first firing >= handle_time), so with period 5 s and
//   handle_time 15 s an action applies at the 4th consecutive firing evaluation; handle_time 0
//   applies at once. A gap of more than 2 periods between ticks (a stalled process) restarts every
//   streak: a stall is no proof that a condition held continuously.
// - Once applied, a rule's streak restarts, so a condition that persists re-applies its action
//   every handle_time (maxloop bounds that).
// - One control action per tick, by priority stop > wait > stopstart > swap > restart, the first
//   rule in rule order winning within a priority; every stable rule's streak restarts with it.
//   Assignments (rfs.uptodate=up) are all applied.
// - WAIT: a stable wait rule puts the module in WAIT (NotReady) and it stays there while any wait
//   rule fires; at start-up (before the first evaluation settles) the module is WAIT (Transient)
//   while a wait rule reads an `init` resource or fires without being stable yet. When no wait rule
//   fires and no wait resource is `init`: wakeup, from the rule named Implicit_wakeup.
//   While WAIT, only stop and assignments apply (the application is not running).

import type { ActionName, ResourceState, Rule } from "./ast.ts";
import { evaluate, type FiredRule, type ResourceView } from "./evaluate.ts";
import type { RuleSet } from "./rule_set.ts";

export type FailoverMode = "starting" | "running" | "waiting";

export type FailoverMachineState = {
  /** starting: after (re)start, until the first evaluation decides; waiting: the module is WAIT. */
  readonly mode: FailoverMode;
  /** The rule shown as the reason of WAIT (detailed state), when waiting. */
  readonly waitRule: string | null;
  /** WAIT (Transient) rather than WAIT (NotReady). */
  readonly transient: boolean;
  /** Rule name -> time of the first evaluation of its current firing streak. */
  readonly firingSince: Readonly<Record<string, number>>;
  readonly lastEvalAt: number | null;
};

export type FailoverMachineEvent =
  | {
    readonly kind: "tick";
    readonly now: number;
    readonly resources: ResourceView;
    readonly clusterUp?: boolean;
  }
  /** The module was (re)started or stopped: forget streaks and WAIT, start deciding afresh. */
  | { readonly kind: "reset" };

export const IMPLICIT_WAKEUP = "Implicit_wakeup";

export type FailoverEffect =
  | {
    readonly kind: "action";
    readonly action: ActionName | "wakeup";
    readonly rule: string;
    readonly log: string;
  }
  | {
    readonly kind: "assign";
    readonly resource: string;
    readonly value: ResourceState;
    readonly rule: string;
    readonly log: string;
  }
  | {
    readonly kind: "transition";
    readonly transition: "WAIT_TR";
    readonly rule: string;
    readonly log: string;
  };

export function initialFailoverState(): FailoverMachineState {
  return { mode: "starting", waitRule: null, transient: false, firingSince: {}, lastEvalAt: null };
}

const PRIORITY: readonly ActionName[] = ["stop", "wait", "stopstart", "swap", "restart"];

export function failoverMachineStep(
  state: FailoverMachineState,
  event: FailoverMachineEvent,
  ruleSet: RuleSet,
): { state: FailoverMachineState; effects: FailoverEffect[] } {
  if (event.kind === "reset") return { state: initialFailoverState(), effects: [] };
  const { now } = event;
  const stalled = state.lastEvalAt !== null && now - state.lastEvalAt > 2 * ruleSet.periodMs;
  const previous = stalled ? {} : state.firingSince;
  const ev = evaluate(ruleSet.rules, event.resources, { clusterUp: event.clusterUp });

  const firingSince: Record<string, number> = {};
  for (const f of ev.fired) firingSince[f.rule.name] = previous[f.rule.name] ?? now;
  const stable = ev.fired.filter((f) => now - firingSince[f.rule.name] >= ruleSet.handleTimeMs);

  const effects: FailoverEffect[] = [];
  for (const f of stable) {
    if (f.action.kind !== "assign") continue;
    const resource = `${f.action.target.class}.${(f.action.target.id as { name: string }).name}`;
    effects.push({
      kind: "assign",
      resource,
      value: f.action.value,
      rule: f.rule.name,
      log: `Resource ${resource} set to ${f.action.value} by failover rule ${f.rule.name}`,
    });
    firingSince[f.rule.name] = now;
  }

  const waitFiring = ev.fired.filter((f) => isCall(f, "wait"));
  let next: FailoverMachineState = { ...state, firingSince, lastEvalAt: now };

  const allowed = (name: ActionName) =>
    state.mode !== "waiting" || name === "stop" || (name === "wait" && state.transient);
  const control = PRIORITY.flatMap((name) => stable.filter((f) => isCall(f, name) && allowed(name)))[0];
  if (control !== undefined) {
    const name = (control.action as { name: ActionName }).name;
    effects.push(action(name, control.rule.name));
    for (const f of stable) if (f.action.kind === "call") firingSince[f.rule.name] = now;
    if (name === "wait") next = { ...next, mode: "waiting", waitRule: control.rule.name, transient: false };
    if (name === "wait" || name === "stop") return { state: next, effects };
  }

  const initRule = ev.initWaits[0]?.rule;
  if (state.mode === "starting") {
    const reason = initRule ?? waitFiring[0]?.rule;
    if (reason !== undefined) {
      effects.push(transition(reason));
      next = { ...next, mode: "waiting", waitRule: reason.name, transient: true };
    } else {
      next = { ...next, mode: "running" };
    }
  } else if (state.mode === "waiting") {
    if (!state.transient && waitFiring.length > 0) {
      next = {
        ...next,
        waitRule: waitFiring.some((f) => f.rule.name === state.waitRule)
          ? state.waitRule
          : waitFiring[0].rule.name,
      };
    } else if (!state.transient && initRule !== undefined) {
      effects.push(transition(initRule));
      next = { ...next, waitRule: initRule.name, transient: true };
    } else if (state.transient && (waitFiring.length > 0 || initRule !== undefined)) {
      // Still settling: a wait resource is init, or a wait rule fires but is not stable yet.
    } else {
      effects.push(action("wakeup", IMPLICIT_WAKEUP));
      next = { ...next, mode: "running", waitRule: null, transient: false };
    }
  }
  return { state: next, effects };
}

function isCall(f: FiredRule, name: ActionName): boolean {
  return f.action.kind === "call" && f.action.name === name;
}

function action(name: ActionName | "wakeup", rule: string): FailoverEffect {
  return { kind: "action", action: name, rule, log: `Action ${name} from failover rule ${rule}` };
}

function transition(rule: Rule): FailoverEffect {
  return {
    kind: "transition",
    transition: "WAIT_TR",
    rule: rule.name,
    log: `Transition WAIT_TR from failover rule ${rule.name}`,
  };
}
