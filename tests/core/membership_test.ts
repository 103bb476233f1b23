import assert from "node:assert/strict";
import {
  initialState,
  lanStatus,
  type MembershipEffect,
  type MembershipEvent,
  type MembershipSettings,
  type MembershipState,
  step,
} from "../../src/core/membership.ts";

// Timings of the scenarios: cluster.xml defaults (pulse 100 ms, mlost 20, slost 10).
const defaults = { pulseMs: 100, mlostCount: 20, slostCount: 10 };
const oneLan = (...nodes: string[]): MembershipSettings => ({ ...defaults, lans: [{ name: "lan1", nodes }] });
const twoLans = (...nodes: string[]): MembershipSettings => ({
  ...defaults,
  lans: [{ name: "lan1", nodes }, { name: "lan2", nodes }],
});

type At = [number, MembershipEvent];
const tick: MembershipEvent = { kind: "tick" };
const range = (from: number, to: number, every = 100) =>
  Array.from({ length: Math.floor((to - from) / every) + 1 }, (_, i) => from + i * every);
const ticks = (from: number, to: number, every = 100): At[] => range(from, to, every).map((t) => [t, tick]);
function beats(from: string, lan: string, start: number, end: number, epoch = 1): At[] {
  return range(start, end).map((t) => [t, {
    kind: "received",
    from,
    lan,
    epoch,
    payload: { view: [from], leader: null },
  }]);
}

/** Effects as short lines, e.g. "2000 down node2 silent"; pulses sent are left out (tested separately). */
function describe(at: number, e: MembershipEffect): string | null {
  switch (e.kind) {
    case "send":
      return null;
    case "nodeUp":
      return `${at} up ${e.name}`;
    case "nodeDown":
      return `${at} down ${e.name} ${e.reason}`;
    case "lanChanged":
      return `${at} lan ${e.node} ${e.lan} ${e.up ? "up" : "down"}`;
    case "viewChanged":
      return `${at} view ${e.view.join(",")}`;
    case "leaderChanged":
      return `${at} leader ${e.leader}`;
    case "ignored":
      return `${at} ignored ${e.reason}`;
  }
}

function run(local: string, settings: MembershipSettings, events: At[]) {
  // Stable sort: at equal times, events keep the order they were listed in (pulses before ticks below).
  const ordered = events.map((e, i) => [e, i] as const).sort((a, b) => a[0][0] - b[0][0] || a[1] - b[1])
    .map(([e]) => e);
  let state: MembershipState = initialState({ ...settings, local }, 0);
  const lines: string[] = [];
  const sends: number[] = [];
  for (const [at, event] of ordered) {
    const out = step(state, event, at);
    state = out.state;
    for (const e of out.effects) {
      if (e.kind === "send") sends.push(at);
      const line = describe(at, e);
      if (line) lines.push(line);
    }
  }
  return { state, lines, sends };
}

type Scenario = { name: string; local: string; settings: MembershipSettings; events: At[]; expect: string[] };

const scenarios: Scenario[] = [
  {
    name: "beats keep the peer up and the lowest name leads",
    local: "node1",
    settings: oneLan("node1", "node2"),
    events: [...beats("node2", "lan1", 0, 3000), ...ticks(0, 3000)],
    expect: ["0 up node2", "0 lan node2 lan1 up", "0 view node1,node2", "0 leader node1"],
  },
  {
    name: "silence on one lan keeps the node up and reports that lan down after slost×pulse",
    local: "node1",
    settings: twoLans("node1", "node2"),
    events: [...beats("node2", "lan1", 0, 3000), ...beats("node2", "lan2", 0, 500), ...ticks(0, 3000)],
    expect: [
      "0 up node2",
      "0 lan node2 lan1 up",
      "0 view node1,node2",
      "0 leader node1",
      "0 lan node2 lan2 up",
      "1500 lan node2 lan2 down",
    ],
  },
  {
    name: "a leader declares a silent follower lost after slost×pulse",
    local: "node1",
    settings: twoLans("node1", "node2"),
    events: [...beats("node2", "lan1", 0, 1000), ...beats("node2", "lan2", 0, 800), ...ticks(0, 4000)],
    expect: [
      "0 up node2",
      "0 lan node2 lan1 up",
      "0 view node1,node2",
      "0 leader node1",
      "0 lan node2 lan2 up",
      "1800 lan node2 lan2 down",
      "2000 lan node2 lan1 down",
      "2000 down node2 silent",
      "2000 view node1",
    ],
  },
  {
    name: "a follower waits mlost×pulse before declaring the leader lost, then the next lowest name leads",
    local: "node2",
    settings: oneLan("node1", "node2", "node3"),
    events: [...beats("node1", "lan1", 0, 1000), ...beats("node3", "lan1", 0, 5000), ...ticks(0, 5000)],
    expect: [
      "0 up node1",
      "0 lan node1 lan1 up",
      "0 view node1,node2",
      "0 up node3",
      "0 lan node3 lan1 up",
      "0 view node1,node2,node3",
      "0 leader node1",
      "2000 lan node1 lan1 down",
      "3000 down node1 silent",
      "3000 view node2,node3",
      "3000 leader node2",
    ],
  },
  {
    name: "a follower declares another silent follower lost after slost×pulse",
    local: "node2",
    settings: oneLan("node1", "node2", "node3"),
    events: [...beats("node1", "lan1", 0, 3000), ...beats("node3", "lan1", 0, 1000), ...ticks(0, 3000)],
    expect: [
      "0 up node1",
      "0 lan node1 lan1 up",
      "0 view node1,node2",
      "0 up node3",
      "0 lan node3 lan1 up",
      "0 view node1,node2,node3",
      "0 leader node1",
      "2000 lan node3 lan1 down",
      "2000 down node3 silent",
      "2000 view node1,node2",
    ],
  },
  {
    name: "a restart with a new epoch is reported down then up; the stale epoch is then ignored",
    local: "node1",
    settings: oneLan("node1", "node2"),
    events: [
      ...beats("node2", "lan1", 0, 500, 5),
      ...beats("node2", "lan1", 600, 2000, 9),
      ...beats("node2", "lan1", 650, 650, 5),
      ...ticks(0, 2000),
    ],
    expect: [
      "0 up node2",
      "0 lan node2 lan1 up",
      "0 view node1,node2",
      "0 leader node1",
      "600 down node2 restarted",
      "600 up node2",
      "650 ignored stale_epoch",
    ],
  },
  {
    name: "a node declared down comes back up with its new epoch",
    local: "node1",
    settings: oneLan("node1", "node2"),
    events: [
      ...beats("node2", "lan1", 0, 500, 5),
      ...beats("node2", "lan1", 2000, 2500, 9),
      ...ticks(0, 2500),
    ],
    expect: [
      "0 up node2",
      "0 lan node2 lan1 up",
      "0 view node1,node2",
      "0 leader node1",
      "1500 lan node2 lan1 down",
      "1500 down node2 silent",
      "1500 view node1",
      "2000 up node2",
      "2000 lan node2 lan1 up",
      "2000 view node1,node2",
    ],
  },
  {
    name: "at start-up no leader is named until slost×pulse passed; a lower name joining takes the lead",
    local: "node2",
    settings: oneLan("node1", "node2", "node3"),
    events: [...ticks(0, 1300), ...beats("node1", "lan1", 1250, 1300)],
    expect: [
      "1000 leader node2",
      "1250 up node1",
      "1250 lan node1 lan1 up",
      "1250 view node1,node2",
      "1250 leader node1",
    ],
  },
  {
    name: "a single-node cluster leads itself at the first tick",
    local: "node1",
    settings: oneLan("node1"),
    events: ticks(0, 300),
    expect: ["0 leader node1"],
  },
  {
    name: "config change: a removed peer goes down at once, new timings apply to the others",
    local: "node1",
    settings: oneLan("node1", "node2", "node3"),
    events: [
      ...beats("node2", "lan1", 0, 500),
      ...beats("node3", "lan1", 0, 500),
      [500, {
        kind: "configChanged",
        settings: { pulseMs: 50, mlostCount: 8, slostCount: 4, lans: oneLan("node1", "node2").lans },
      }],
      ...ticks(0, 450),
      ...ticks(550, 1000, 50),
    ],
    expect: [
      "0 up node2",
      "0 lan node2 lan1 up",
      "0 view node1,node2",
      "0 up node3",
      "0 lan node3 lan1 up",
      "0 view node1,node2,node3",
      "0 leader node1",
      "500 down node3 removed",
      "500 view node1,node2",
      "700 lan node2 lan1 down",
      "700 down node2 silent",
      "700 view node1",
    ],
  },
  {
    name: "config change that drops the local node is ignored",
    local: "node1",
    settings: oneLan("node1", "node2"),
    events: [...beats("node2", "lan1", 0, 0), [100, {
      kind: "configChanged",
      settings: oneLan("node2", "node3"),
    }]],
    expect: [
      "0 up node2",
      "0 lan node2 lan1 up",
      "0 view node1,node2",
      "0 leader node1",
      "100 ignored local_not_in_config",
    ],
  },
  {
    name: "pulses from self, from unknown nodes and on lans not shared are ignored",
    local: "node1",
    settings: {
      ...defaults,
      lans: [{ name: "lan1", nodes: ["node1", "node2"] }, { name: "lan2", nodes: ["node2", "node3"] }],
    },
    events: [
      ...beats("node1", "lan1", 0, 0),
      ...beats("node9", "lan1", 0, 0),
      ...beats("node2", "lan2", 0, 0),
    ],
    expect: ["0 ignored from_self", "0 ignored unknown_node", "0 ignored not_on_lan"],
  },
];

for (const s of scenarios) {
  Deno.test(`membership: ${s.name}`, () => {
    assert.deepEqual(run(s.local, s.settings, s.events).lines, s.expect);
  });
}

Deno.test("membership: one pulse per pulse period, even when ticks come more often", () => {
  assert.deepEqual(run("node1", oneLan("node1", "node2"), ticks(0, 500, 25)).sends, [
    0,
    100,
    200,
    300,
    400,
    500,
  ]);
});

Deno.test("membership: a slightly early tick does not skip a beat", () => {
  const events: At[] = [0, 99, 199, 298].map((t) => [t, tick]);
  assert.deepEqual(run("node1", oneLan("node1", "node2"), events).sends, [0, 99, 199, 298]);
});

Deno.test("membership: after a long stall pulses resume at the normal pace, without a burst", () => {
  const events: At[] = [0, 1000, 1010, 1050, 1100].map((t) => [t, tick]);
  assert.deepEqual(run("node1", oneLan("node1", "node2"), events).sends, [0, 1000, 1100]);
});

Deno.test("membership: each pulse carries the current view and leader", () => {
  let state = initialState({ ...oneLan("node1", "node2"), local: "node2" }, 0);
  state = step(state, beats("node1", "lan1", 0, 0)[0][1], 0).state;
  const out = step(state, tick, 0);
  assert.deepEqual(out.effects.filter((e) => e.kind === "send"), [{
    kind: "send",
    payload: { view: ["node1", "node2"], leader: "node1" },
  }]);
});

Deno.test("membership: lan status is reported per peer and lan", () => {
  const { state } = run("node1", twoLans("node1", "node2"), [
    ...beats("node2", "lan1", 0, 2000),
    ...ticks(0, 2000),
  ]);
  assert.deepEqual(lanStatus(state), [
    { node: "node2", lan: "lan1", up: true },
    { node: "node2", lan: "lan2", up: false },
  ]);
});

Deno.test("membership: the step function is pure (same inputs, same outputs, input state untouched)", () => {
  const start = initialState({ ...oneLan("node1", "node2"), local: "node1" }, 0);
  const event = beats("node2", "lan1", 0, 0)[0][1];
  const a = step(start, event, 10);
  const b = step(start, event, 10);
  assert.deepEqual(a, b);
  assert.deepEqual(start.view, ["node1"]);
  assert.equal(start.peers.get("node2")?.up, false);
});
