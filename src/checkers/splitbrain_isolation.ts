// splitbrain.uptodate (spec §2.2 "Split brain", §4.11 <splitbrain>, §5 splitbrain_failure): whether this
// node may be primary after losing its peer. When every heartbeat is lost, the node asks its witnesses
// afresh: if one answers, the network failure is the peer's side and this node may go or stay ALONE; if
// none answers, this node is the isolated one, and splitbrain.uptodate goes down, so the static rule
// `splitbrain_failure: if (splitbrain.uptodate == down) then wait();` stops it into WAIT.
//
// Decisions the spec leaves open, taken for safety:
// - Only a witness answer obtained *after* the peer was lost counts (a probe started before may predate
//   the failure). While that probe runs, the value does not change.
// - The verdict is kept until the peer is heard again: a node found isolated stays down even if the
//   witness answers again later (the peer, which did reach the witness, may be primary by then), and a
//   node found connected is not sent to WAIT because the witness fails later (that would make a witness
//   outage a service outage).
// - An administrator's start (`safekit start|prim|stopstart...` without `-i`) is the documented way out
//   of WAIT (spec: "until heartbeats come back or admin stop+prim"): it sets the value up. A start at
//   boot or by a detector does not: the witness decides.
// Pure: the module supervisor feeds it the heartbeat view, witness answers and time, and runs the probes.

export type PeerView = "reachable" | "lost" | "unknown";
export type UptodateValue = "init" | "up" | "down";

export type IsolationState = {
  readonly uptodate: UptodateValue;
  /** When the peer was found lost; null while it is reachable or not known yet. */
  readonly lostAt: number | null;
  /** A fresh witness probe was asked for and not answered yet. */
  readonly probing: boolean;
  /** The verdict for the current loss is taken (by a witness answer or an administrator). */
  readonly decided: boolean;
};

export type IsolationEvent =
  | { readonly kind: "peer"; readonly view: PeerView; readonly at: number }
  /** The result of a witness probe that started at `startedAt`. */
  | {
    readonly kind: "witness";
    readonly answered: boolean;
    readonly startedAt: number;
    readonly detail?: string;
  }
  | { readonly kind: "adminStart" };

export type IsolationEffect =
  | { readonly kind: "probe" }
  | { readonly kind: "uptodate"; readonly value: UptodateValue }
  | { readonly kind: "log"; readonly level: "E" | "I"; readonly message: string };

export const SPLITBRAIN_UPTODATE = "splitbrain.uptodate";

export function initialIsolationState(): IsolationState {
  return { uptodate: "init", lostAt: null, probing: false, decided: false };
}

export function isolationStep(
  state: IsolationState,
  event: IsolationEvent,
): { state: IsolationState; effects: IsolationEffect[] } {
  switch (event.kind) {
    case "adminStart":
      return set({ ...state, probing: false, decided: state.lostAt !== null }, "up", []);
    case "peer": {
      if (event.view === "reachable") {
        return set({ uptodate: state.uptodate, lostAt: null, probing: false, decided: false }, "up", []);
      }
      if (event.view === "unknown" || state.lostAt !== null) return { state, effects: [] };
      // The peer has just been lost: only a probe started from now on says which side is cut off.
      return {
        state: { ...state, lostAt: event.at, probing: true, decided: false },
        effects: [{ kind: "probe" }],
      };
    }
    case "witness": {
      if (state.lostAt === null || state.decided || event.startedAt < state.lostAt) {
        return { state, effects: [] };
      }
      const next = { ...state, probing: false, decided: true };
      if (event.answered) return set(next, "up", []);
      return set(next, "down", [{
        kind: "log",
        level: "E",
        message: `Peer lost and no witness answered${event.detail ? ` (${event.detail})` : ""}: ` +
          "this node is isolated and must not be primary until the heartbeats come back " +
          "or an administrator starts the module",
      }]);
    }
  }
}

function set(
  state: IsolationState,
  value: UptodateValue,
  effects: IsolationEffect[],
): { state: IsolationState; effects: IsolationEffect[] } {
  if (state.uptodate === value) return { state, effects };
  return { state: { ...state, uptodate: value }, effects: [...effects, { kind: "uptodate", value }] };
}

/** The peer as the heartbeat resources show it: one up is enough; all down is a loss. */
export function peerView(heartbeats: readonly (string | undefined)[]): PeerView {
  if (heartbeats.some((v) => v === "up")) return "reachable";
  if (heartbeats.length > 0 && heartbeats.every((v) => v === "down")) return "lost";
  return "unknown";
}
