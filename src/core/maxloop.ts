// maxloop (spec §2.2, §3.3, §4.3): bounds how often detectors may restart a module. Each
// restart, stopstart, wait or swap requested with an identity (`-i`: a checker, errd, the failover
// machine) counts; more than `maxloop` of them within `loop_interval` stops the module on this
// node ("Action stop called by maxloop"), i.e. the 4th detection in 24 h with the defaults.
// Administrator commands (no identity) reset the counter; so does the interval expiring.
// Pure: the counter state is plain data the driver persists (it must survive a reboot when
// automatic_reboot is on), and `heart.stopstartloop` publishes when the counter started.
import { rebootLog } from "./maxloop_reboot.ts";

export type MaxloopConfig = {
  /** Default 3. */
  readonly maxLoop: number;
  /** Default 24 h; 0 disables maxloop. */
  readonly loopIntervalMs: number;
  /** A detector's stopstart reboots the server instead. */
  readonly automaticReboot: boolean;
};

export const DEFAULT_MAXLOOP_CONFIG: MaxloopConfig = {
  maxLoop: 3,
  loopIntervalMs: 24 * 3600_000,
  automaticReboot: false,
};

export type MaxloopState = {
  readonly count: number;
  /** Epoch ms of the first counted action of the current interval; null when the counter is reset. */
  readonly since: number | null;
};

export type ControlAction = "start" | "stop" | "restart" | "stopstart" | "swap" | "wait" | "prim" | "second";

export type MaxloopEvent =
  /** A control action about to be executed; identity = `-i` (absent for administrator commands). */
  | { readonly kind: "action"; readonly action: ControlAction; readonly identity?: string }
  /** `safekit incloop -i handler`: a handler counts itself. */
  | { readonly kind: "incloop"; readonly handler: string }
  | { readonly kind: "resetloop"; readonly handler?: string }
  | { readonly kind: "checkloop" };

export const STOPSTARTLOOP_RESOURCE = "heart.stopstartloop";
/** Ours (SafeKit publishes only the start): the count, so that the counter survives a reboot. */
export const STOPSTARTCOUNT_RESOURCE = "heart.stopstartcount";

export type MaxloopEffect =
  /** Execute the action as requested. */
  | { readonly kind: "allow" }
  /** Stop the module instead. */
  | { readonly kind: "stop"; readonly log: string }
  /** Reboot the server instead of the stopstart (automatic_reboot="on"). */
  | { readonly kind: "reboot"; readonly log: string }
  /** Exit code of incloop / resetloop / checkloop. */
  | { readonly kind: "result"; readonly code: 0 | 1 }
  /** New value of heart.stopstartloop: epoch seconds of the counter start, 0 when reset. */
  | { readonly kind: "resource"; readonly name: typeof STOPSTARTLOOP_RESOURCE; readonly value: string };

export const MAXLOOP_STOP_LOG = "Action stop called by maxloop";

/** Detector actions that count (stop needs no bound: it does not loop). */
const COUNTED: readonly ControlAction[] = ["restart", "stopstart", "wait", "swap"];

export function initialMaxloopState(): MaxloopState {
  return { count: 0, since: null };
}

export function maxloopStep(
  state: MaxloopState,
  event: MaxloopEvent,
  now: number,
  config: MaxloopConfig = DEFAULT_MAXLOOP_CONFIG,
): { state: MaxloopState; effects: MaxloopEffect[] } {
  const disabled = config.loopIntervalMs <= 0;
  const current = expired(state, now, config) ? initialMaxloopState() : state;
  switch (event.kind) {
    case "resetloop":
      return withResource(state, initialMaxloopState(), [{ kind: "result", code: 0 }]);
    case "checkloop":
      return { state, effects: [{ kind: "result", code: !disabled && reached(current, config) ? 1 : 0 }] };
    case "incloop": {
      if (disabled) return { state, effects: [{ kind: "result", code: 0 }] };
      const counted = increment(current, now);
      return withResource(state, counted, [{ kind: "result", code: reached(counted, config) ? 1 : 0 }]);
    }
    case "action": {
      if (event.identity === undefined) {
        return withResource(state, initialMaxloopState(), [{ kind: "allow" }]);
      }
      if (disabled || !COUNTED.includes(event.action)) return { state, effects: [{ kind: "allow" }] };
      const counted = increment(current, now);
      if (reached(counted, config)) {
        return withResource(state, counted, [{ kind: "stop", log: MAXLOOP_STOP_LOG }]);
      }
      if (event.action === "stopstart" && config.automaticReboot) {
        return withResource(state, counted, [{ kind: "reboot", log: rebootLog(event.identity) }]);
      }
      return withResource(state, counted, [{ kind: "allow" }]);
    }
  }
}

/** Value of heart.stopstartloop for a state: epoch seconds of the counter start, "0" when reset. */
export function stopstartloopValue(state: MaxloopState): string {
  return state.since === null ? "0" : String(Math.floor(state.since / 1000));
}

/**
 * The counter as persisted in the resource store (heart.stopstartloop, heart.stopstartcount), e.g. after the
 * reboot automatic_reboot asked for: without it a module failing at each boot would reboot forever.
 */
export function restoreMaxloopState(
  stopstartloop: string | undefined,
  count: string | undefined,
): MaxloopState {
  const since = Number(stopstartloop);
  const n = Number(count);
  if (!Number.isSafeInteger(since) || since <= 0 || !Number.isSafeInteger(n) || n <= 0) {
    return initialMaxloopState();
  }
  return { count: n, since: since * 1000 };
}

function expired(state: MaxloopState, now: number, config: MaxloopConfig): boolean {
  return state.since !== null && now - state.since >= config.loopIntervalMs;
}

function increment(state: MaxloopState, now: number): MaxloopState {
  return { count: state.count + 1, since: state.since ?? now };
}

/** More than maxloop detections inside the interval. */
function reached(state: MaxloopState, config: MaxloopConfig): boolean {
  return state.count > config.maxLoop;
}

function withResource(
  before: MaxloopState,
  after: MaxloopState,
  effects: MaxloopEffect[],
): { state: MaxloopState; effects: MaxloopEffect[] } {
  if (stopstartloopValue(before) === stopstartloopValue(after)) return { state: after, effects };
  return {
    state: after,
    effects: [...effects, {
      kind: "resource",
      name: STOPSTARTLOOP_RESOURCE,
      value: stopstartloopValue(after),
    }],
  };
}
