// errd, the process monitor (spec §4.10), as a pure automaton: at each poll it is given how many processes
// match each <proc>, and decides the proc.<name> resources, the log lines and the actions. Time is counted
// in polls (start_after=n: evaluation from the n-th poll after the class was enabled, i.e. after
// (n-1) x polltimer). The driver (errd_monitor.ts) reads /proc and executes the effects.
import type { ErrdConfig, ErrdProc } from "../config/mod.ts";

export type ErrdProcState = {
  readonly enabled: boolean;
  /** Polls seen since the class was enabled. */
  readonly polls: number;
  /** Last evaluation: null until the first one (resource init). */
  readonly ok: boolean | null;
  readonly handlerRunning: boolean;
};

export type ErrdState = {
  /** `safekit errd on|off` (usersetting.errd). */
  readonly on: boolean;
  readonly procs: readonly ErrdProcState[];
};

export type ErrdEvent =
  | { readonly kind: "poll"; readonly counts: readonly number[] }
  | { readonly kind: "enableClass"; readonly class: string }
  | { readonly kind: "disableClass"; readonly class: string }
  | { readonly kind: "setSwitch"; readonly on: boolean }
  | { readonly kind: "handlerDone"; readonly index: number; readonly exitCode: number };

export type ErrdAction = "restart" | "stopstart" | "stop";

export type ErrdEffect =
  | { readonly kind: "log"; readonly level: "E"; readonly message: string }
  | { readonly kind: "resource"; readonly resource: string; readonly value: "up" | "down" }
  | {
    readonly kind: "action";
    readonly action: ErrdAction;
    readonly proc: string;
    /** restart_services: passed to stop_prim/start_prim as `-Services "S2, S3"`. */
    readonly services: readonly string[];
    /** What the module log says when the runtime executes it. */
    readonly message: string;
  }
  | { readonly kind: "runHandler"; readonly index: number; readonly exe: string; readonly proc: string };

export type ErrdStep = { state: ErrdState; effects: ErrdEffect[] };

export function initialErrdState(config: ErrdConfig, on = true): ErrdState {
  return {
    on,
    procs: config.procs.map(() => ({ enabled: false, polls: 0, ok: null, handlerRunning: false })),
  };
}

/** The automatic classes follow the module's scripts; `sec` is the short form of `second`. */
export function sameClass(a: string, b: string): boolean {
  const norm = (c: string) => c === "sec" ? "second" : c;
  return norm(a) === norm(b);
}

/** Whether `count` matching processes satisfy a <proc>: atleast and atmax, -1 meaning "not checked". */
export function countOk(p: Pick<ErrdProc, "atLeast" | "atMax">, count: number): boolean {
  return (p.atLeast < 0 || count >= p.atLeast) && (p.atMax < 0 || count <= p.atMax);
}

/** The log line for a failed condition. The UG gives the "not running" forms; the atmax one is ours. */
export function failureMessage(p: ErrdProc, count: number): string {
  const what = p.service ? "Service" : "Process";
  if (p.atLeast >= 0 && count < p.atLeast) return `${what} ${p.name} not running`;
  return `${what} ${p.name} running ${count} times (atmax ${p.atMax})`;
}

export function actionMessage(action: ErrdAction): string {
  return `Action ${action} called by errd`;
}

export function errdStep(config: ErrdConfig, state: ErrdState, event: ErrdEvent): ErrdStep {
  switch (event.kind) {
    case "enableClass":
    case "disableClass": {
      const enable = event.kind === "enableClass";
      const procs = state.procs.map((s, i) =>
        sameClass(config.procs[i].class, event.class) && s.enabled !== enable
          ? { ...s, enabled: enable, polls: 0, ok: null }
          : s
      );
      return { state: { ...state, procs }, effects: [] };
    }
    case "setSwitch":
      // Back on, each process is evaluated afresh, so a failure seen while off is not acted on late.
      return {
        state: { on: event.on, procs: event.on ? state.procs.map((s) => ({ ...s, ok: null })) : state.procs },
        effects: [],
      };
    case "handlerDone": {
      const p = config.procs[event.index];
      const procs = state.procs.map((s, i) => i === event.index ? { ...s, handlerRunning: false } : s);
      // A handler that fails hands over to the default action (spec §4.10).
      const effects: ErrdEffect[] = event.exitCode === 0 ? [] : [{
        kind: "action",
        action: "stopstart",
        proc: p.name,
        services: p.restartServices,
        message: actionMessage("stopstart"),
      }];
      return { state: { ...state, procs }, effects };
    }
    case "poll":
      return poll(config, state, event.counts);
  }
}

function poll(config: ErrdConfig, state: ErrdState, counts: readonly number[]): ErrdStep {
  if (!state.on) return { state, effects: [] };
  const effects: ErrdEffect[] = [];
  const procs = state.procs.map((s, i): ErrdProcState => {
    if (!s.enabled) return s;
    const p = config.procs[i];
    const polls = s.polls + 1;
    if (polls < (p.startAfter ?? 1)) return { ...s, polls };
    const count = counts[i] ?? 0;
    const ok = countOk(p, count);
    if (ok !== s.ok) effects.push({ kind: "resource", resource: p.resource, value: ok ? "up" : "down" });
    if (ok) return { ...s, polls, ok };
    // Built-in actions fire once when the condition breaks; the module restart that follows disables and
    // re-enables the class, which re-arms them. A handler is called again at each failing poll once the
    // previous call has ended: it is the handler's job to bring the process back.
    const breaking = s.ok !== false;
    const handlerDue = p.action.kind === "handler" && !s.handlerRunning;
    if (breaking || handlerDue) effects.push({ kind: "log", level: "E", message: failureMessage(p, count) });
    if (p.action.kind === "handler") {
      if (handlerDue) effects.push({ kind: "runHandler", index: i, exe: p.action.exe, proc: p.name });
      return { ...s, polls, ok, handlerRunning: true };
    }
    if (breaking && p.action.kind !== "noaction") {
      const action = p.action.kind;
      effects.push({
        kind: "action",
        action,
        proc: p.name,
        services: p.restartServices,
        message: actionMessage(action),
      });
    }
    return { ...s, polls, ok };
  });
  return { state: { ...state, procs }, effects };
}

/** `safekit errd list`: one line per <proc> with its class, whether it is monitored now, and its value. */
export function errdList(config: ErrdConfig, state: ErrdState): string[] {
  return config.procs.map((p, i) => {
    const s = state.procs[i];
    const value = s.ok === null ? "init" : s.ok ? "up" : "down";
    return `${p.resource} class=${p.class} ${s.enabled && state.on ? "enabled" : "disabled"} ${value}`;
  });
}
