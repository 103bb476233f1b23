import assert from "node:assert/strict";
import {
  initialIsolationState,
  type IsolationEvent,
  isolationStep,
  peerView,
} from "../../src/checkers/splitbrain_isolation.ts";

const reachable = (at: number): IsolationEvent => ({ kind: "peer", view: "reachable", at });
const lost = (at: number): IsolationEvent => ({ kind: "peer", view: "lost", at });
const unknown = (at: number): IsolationEvent => ({ kind: "peer", view: "unknown", at });
const witness = (answered: boolean, startedAt: number): IsolationEvent => ({
  kind: "witness",
  answered,
  startedAt,
});
const admin: IsolationEvent = { kind: "adminStart" };

type Scenario = {
  name: string;
  events: IsolationEvent[];
  /** splitbrain.uptodate after each event. */
  values: string[];
  /** Indexes of the events that asked for a fresh witness probe. */
  probes: number[];
};

const SCENARIOS: Scenario[] = [
  {
    name: "init until the peer is known; a reachable peer makes it up without asking the witness",
    events: [unknown(0), reachable(100)],
    values: ["init", "up"],
    probes: [],
  },
  {
    name: "peer lost and no witness answers: down, the isolated node must not be primary",
    events: [reachable(0), lost(1000), witness(false, 1000)],
    values: ["up", "up", "down"],
    probes: [1],
  },
  {
    name: "peer lost and a witness answers: stays up (the peer is the one cut off)",
    events: [reachable(0), lost(1000), witness(true, 1001)],
    values: ["up", "up", "up"],
    probes: [1],
  },
  {
    name: "a witness answer from a probe started before the loss does not count",
    events: [reachable(0), lost(1000), witness(false, 999), witness(true, 999), witness(false, 1200)],
    values: ["up", "up", "up", "up", "down"],
    probes: [1],
  },
  {
    name: "isolated stays down when the witness answers again; only the heartbeats coming back clear it",
    events: [lost(0), witness(false, 0), witness(true, 10_000), lost(20_000), reachable(30_000)],
    values: ["init", "down", "down", "down", "up"],
    probes: [0],
  },
  {
    name: "connected stays up when the witness fails later (a witness outage is not a service outage)",
    events: [lost(0), witness(true, 0), witness(false, 10_000)],
    values: ["init", "up", "up"],
    probes: [0],
  },
  {
    name: "each new loss asks again",
    events: [reachable(0), lost(10), witness(true, 10), reachable(20), lost(30), witness(false, 31)],
    values: ["up", "up", "up", "up", "up", "down"],
    probes: [1, 4],
  },
  {
    name:
      "an administrator's start gets the isolated node out of WAIT; a later witness answer does not undo it",
    events: [lost(0), witness(false, 0), admin, witness(false, 5)],
    values: ["init", "down", "up", "up"],
    probes: [0],
  },
  {
    name: "a node started at boot with its peer gone waits for the witness (init, then its verdict)",
    events: [unknown(0), lost(30_000), witness(false, 30_000)],
    values: ["init", "init", "down"],
    probes: [1],
  },
];

for (const s of SCENARIOS) {
  Deno.test(`splitbrain isolation: ${s.name}`, () => {
    let state = initialIsolationState();
    const values: string[] = [];
    const probes: number[] = [];
    s.events.forEach((e, i) => {
      const out = isolationStep(state, e);
      state = out.state;
      values.push(state.uptodate);
      if (out.effects.some((f) => f.kind === "probe")) probes.push(i);
      const set = out.effects.find((f) => f.kind === "uptodate");
      if (set?.kind === "uptodate") {
        assert.equal(set.value, state.uptodate, "the effect carries the new value");
      }
    });
    assert.deepEqual(values, s.values);
    assert.deepEqual(probes, s.probes);
  });
}

Deno.test("splitbrain isolation: going down is explained in the log; staying up is not", () => {
  const lostState = isolationStep(initialIsolationState(), lost(0)).state;
  const down = isolationStep(lostState, {
    kind: "witness",
    answered: false,
    startedAt: 0,
    detail: "10.0.0.9",
  });
  assert.deepEqual(down.effects.map((e) => e.kind), ["log", "uptodate"]);
  assert.match(JSON.stringify(down.effects[0]), /no witness answered \(10\.0\.0\.9\)/);
  assert.deepEqual(isolationStep(lostState, witness(true, 0)).effects.map((e) => e.kind), ["uptodate"]);
});

Deno.test("splitbrain isolation: the peer is reachable when one heartbeat is up, lost when all are down", () => {
  assert.equal(peerView(["down", "up"]), "reachable");
  assert.equal(peerView(["down", "down"]), "lost");
  assert.equal(peerView(["down", "init"]), "unknown");
  assert.equal(peerView(["down", undefined]), "unknown");
  assert.equal(peerView([]), "unknown");
});
