import assert from "node:assert/strict";
import {
  type FarmConfig,
  type FarmEffect,
  type FarmEvent,
  type FarmState,
  initialFarmState,
  step,
} from "../../src/core/farm_automaton.ts";
import { groupPowers } from "../../src/core/farm_buckets.ts";

const farm: FarmConfig = {
  node: "node1",
  mode: "farm",
  groups: [{ name: "FarmProto", powers: groupPowers(["node1", "node2"]) }],
  vip: true,
  scriptcontrol: false,
  waitRules: false,
};

type Run = { state: FarmState; effects: FarmEffect[] };

/** Feeds events; "done" finishes the running script with exit 0. Returns all effects in order. */
function run(
  config: FarmConfig,
  events: (FarmEvent | "done" | { done: number; timedOut?: boolean })[],
  from?: FarmState,
): Run {
  let state = from ?? initialFarmState(config);
  const effects: FarmEffect[] = [];
  for (const e of events) {
    let ev: FarmEvent;
    if (e === "done" || (typeof e === "object" && "done" in e)) {
      const running = state.job?.running;
      assert.ok(running, "no script running");
      ev = {
        kind: "scriptFinished",
        script: running.name,
        runId: running.runId,
        exitCode: e === "done" ? 0 : e.done,
        timedOut: e !== "done" && e.timedOut === true,
      };
    } else ev = e;
    const out = step(state, ev, 0);
    state = out.state;
    effects.push(...out.effects);
  }
  return { state, effects };
}

const cmd = (verb: string, id = verb): FarmEvent => ({ kind: "command", id, verb, by: "root" } as FarmEvent);
const view = (...members: string[]): FarmEvent => ({ kind: "membership", members });
const logs = (fx: FarmEffect[]) => fx.flatMap((e) => (e.kind === "log" ? [e.message] : []));
/** A compact trace: logs, scripts with args, traffic/membership effects, replies and ready. */
function trace(fx: FarmEffect[]): string[] {
  return fx.flatMap((e) => {
    switch (e.kind) {
      case "log":
        return e.message.startsWith("Script ") ? [] : [e.message];
      case "runScript":
        return [`run ${e.name}${e.force ? " force" : ""} ${e.args.join(" ")}`];
      case "killScript":
        return [`kill ${e.name}`];
      case "openTraffic":
      case "closeTraffic":
      case "joinFarm":
      case "leaveFarm":
        return [e.kind];
      case "reply":
        return [e.ok ? `ok ${e.commandId}` : `refused ${e.commandId}: ${e.error}`];
      case "readyChanged":
        return [`ready ${e.ready}`];
      case "setBuckets":
        return [`buckets ${e.group} ${e.buckets.length}`];
      case "setResource":
        return e.name === "state.local" ? [] : [`resource ${e.name}=${e.value}`];
    }
  });
}

const startToUp = [cmd("start"), "done", "done", view("node1", "node2"), "done", "done"] as const;

const scenarios: {
  name: string;
  config?: FarmConfig;
  events: (FarmEvent | "done" | { done: number; timedOut?: boolean })[];
  expect: string[];
}[] = [
  {
    name: "start goes STOP -> WAIT -> UP Ready with traffic opened before start_both",
    events: [...startToUp],
    expect: [
      "ok start",
      "Action start called by root",
      "Local state WAIT Transient",
      "run prestart STOP WAIT start",
      "run transition STOP WAIT start",
      "Local state UP Transient",
      "openTraffic",
      "joinFarm",
      "run start_both WAIT UP start",
      "farm membership: node1 node2 (group FarmProto_0)",
      "farm load: 128/256 (group FarmProto_0)",
      "buckets FarmProto 128",
      "resource FarmProto_0=50%",
      "run transition WAIT UP start",
      "Local state UP Ready",
      "ready true",
    ],
  },
  {
    name: "the peer stopping gives this node 256/256",
    events: [...startToUp, view("node1")],
    expect: [
      "farm membership: node1 (group FarmProto_0)",
      "farm load: 256/256 (group FarmProto_0)",
      "buckets FarmProto 256",
      "resource FarmProto_0=100%",
    ],
  },
  {
    name: "stop runs stop_both graceful then forced, closes traffic after it, then poststop",
    events: [...startToUp, cmd("stop"), "done", "done", "done", "done"],
    expect: [
      "ok stop",
      "Action stop called by root",
      "Local state UP Transient",
      "run stop_both UP STOP stop",
      "ready false",
      "run stop_both force UP STOP stop",
      "closeTraffic",
      "leaveFarm",
      "buckets FarmProto 0",
      "resource FarmProto_0=0%",
      "run poststop UP STOP stop",
      "run transition UP STOP stop",
      "Local state STOP NotReady",
    ],
  },
  {
    name: "stopstart stops then starts automatically",
    events: [...startToUp, cmd("stopstart"), "done", "done", "done", "done"],
    expect: [
      "Action stopstart called by root",
      "run stop_both UP STOP stopstart",
      "run stop_both force UP STOP stopstart",
      "run poststop UP STOP stopstart",
      "run transition UP STOP stopstart",
      "Local state STOP NotReady",
      "Action start called automatically",
      "Local state WAIT Transient",
      "run prestart STOP WAIT start",
    ],
  },
  {
    name: "restart from UP Ready: stop_both twice and start_both, staying in the farm",
    events: [...startToUp, cmd("restart"), "done", "done", "done"],
    expect: [
      "Action restart called by root",
      "Local state UP Transient",
      "run stop_both UP UP restart",
      "ready false",
      "run stop_both force UP UP restart",
      "closeTraffic",
      "openTraffic",
      "run start_both UP UP restart",
      "Local state UP Ready",
      "ready true",
    ],
  },
  {
    name: "forcestop kills the running start_both and runs only the forced stop_both",
    events: [cmd("start"), "done", "done", cmd("forcestop"), "done", "done", "done"],
    expect: [
      "run start_both WAIT UP start",
      "ok forcestop",
      "Action forcestop called by root",
      "kill start_both",
      "run stop_both force UP STOP stop",
      "closeTraffic",
      "leaveFarm",
      "run poststop UP STOP stop",
      "run transition UP STOP stop",
      "Local state STOP NotReady",
    ],
  },
  {
    name:
      "refusals: start twice, restart not Ready, mirror verbs, stopstart while stopped, commands during an action",
    events: [cmd("stopstart", "ss"), cmd("prim"), cmd("start"), cmd("restart", "r1"), cmd("start", "s2")],
    expect: [
      "refused ss: cannot 'stopstart' module: it is not started (local state STOP NotReady)",
      "refused prim: cannot 'prim' module: 'prim' applies to mirror modules only; a farm module uses start",
      "ok start",
      "refused r1: cannot 'restart' module: action 'start' is in progress (local state WAIT Transient); retry when it ends",
      "refused s2: cannot 'start' module: action 'start' is in progress (local state WAIT Transient); retry when it ends",
    ],
  },
  {
    name: "stop during start is deferred to the end of the running action",
    events: [cmd("start"), cmd("stop"), "done", "done", "done", "done"],
    expect: [
      "ok stop",
      "Action stop called by root",
      "run transition STOP WAIT start",
      "run poststop WAIT STOP stop",
      "Local state STOP NotReady",
    ],
  },
  {
    name: "a failing or timed-out script never wedges the module",
    events: [cmd("start"), { done: 1 }, { done: 2, timedOut: true }, "done", "done"],
    expect: ["Local state UP Ready"],
  },
  {
    name: "scriptcontrol=on: no traffic effects, scripts open and close it themselves",
    config: { ...farm, scriptcontrol: true },
    events: [...startToUp, cmd("stop"), "done", "done", "done", "done"],
    expect: ["joinFarm", "run start_both WAIT UP start", "leaveFarm", "Local state STOP NotReady"],
  },
  {
    name: "light module: same automaton without membership, buckets nor traffic",
    config: { ...farm, mode: "light", groups: [], vip: false },
    events: [cmd("start"), "done", "done", "done", view("node1"), "done"],
    expect: [
      "Local state UP Transient",
      "run start_both WAIT UP start",
      "run transition WAIT UP start",
      "Local state UP Ready",
      "ready true",
    ],
  },
  {
    name: "wait rules: WAIT Transient while init, WAIT NotReady when one applies, wakeup to UP",
    config: { ...farm, waitRules: true },
    events: [
      cmd("start"),
      "done",
      "done",
      { kind: "waitRules", status: "down", rule: "interface_failure" },
      { kind: "waitRules", status: "up" },
    ],
    expect: [
      "run transition STOP WAIT start",
      "Action wait from failover rule interface_failure",
      "Local state WAIT NotReady",
      "Action wakeup from failover rule Implicit_wakeup",
      "Local state UP Transient",
      "run start_both WAIT UP start",
    ],
  },
  {
    name: "wait rule while UP Ready: stop_both, traffic closed, WAIT NotReady without poststop",
    config: { ...farm, waitRules: true },
    events: [
      cmd("start"),
      "done",
      "done",
      { kind: "waitRules", status: "up" },
      "done",
      "done",
      { kind: "waitRules", status: "down", rule: "module_failure" },
      "done",
      "done",
      "done",
    ],
    expect: [
      "Local state UP Ready",
      "Action wait from failover rule module_failure",
      "Transition WAIT_TR from failover rule module_failure",
      "Local state UP Transient",
      "run stop_both UP WAIT stopwait",
      "ready false",
      "run stop_both force UP WAIT stopwait",
      "closeTraffic",
      "leaveFarm",
      "run transition UP WAIT stopwait",
      "Local state WAIT NotReady",
    ],
  },
];

/** `expect` must appear in the trace in this order (other lines may come between). */
function assertSubsequence(actual: string[], expected: string[]) {
  let i = 0;
  for (const line of actual) if (i < expected.length && line === expected[i]) i++;
  assert.equal(i, expected.length, `missing "${expected[i]}" in order; trace:\n${actual.join("\n")}`);
}

for (const s of scenarios) {
  Deno.test(`farm automaton: ${s.name}`, () => {
    const { effects } = run(s.config ?? farm, s.events);
    assertSubsequence(trace(effects), s.expect);
  });
}

Deno.test("farm automaton: the full start trace is exactly the documented sequence", () => {
  const { effects } = run(farm, [...startToUp]);
  assert.deepEqual(trace(effects), scenarios[0].expect);
  assert.deepEqual(
    logs(effects).filter((l) => l.startsWith("Script ")),
    ["Script prestart", "Script transition", "Script start_both", "Script transition"],
  );
});

Deno.test("farm automaton: buckets only from a view that includes this node, never before joining", () => {
  const before = run(farm, [view("node2")]);
  assert.equal(before.effects.filter((e) => e.kind === "setBuckets" && e.buckets.length > 0).length, 0);
  const up = run(farm, [cmd("start"), "done", "done", view("node2")], before.state);
  assert.ok(!up.effects.some((e) => e.kind === "setBuckets" && e.buckets.length > 0));
  const joined = run(farm, [view("node1", "node2")], up.state);
  assert.ok(joined.effects.some((e) => e.kind === "setBuckets" && e.buckets.length === 128));
});

Deno.test("farm automaton: an unchanged view logs nothing again", () => {
  const { state } = run(farm, [...startToUp]);
  const again = step(state, { kind: "membership", members: ["node2", "node1"] }, 0);
  assert.deepEqual(again.effects, []);
});

Deno.test("farm automaton: failover rule commands are logged with the rule name", () => {
  const { state } = run(farm, [...startToUp]);
  const out = step(state, { kind: "command", id: "x", verb: "restart", by: "failover", rule: "c_check" }, 0);
  assert.ok(logs(out.effects).includes("Action restart from failover rule c_check"));
});

Deno.test("farm automaton: shutdown stops like stop with the caller logged", () => {
  const { state } = run(farm, [...startToUp]);
  const out = run(farm, [
    { kind: "command", id: "sd", verb: "shutdown", by: "SYSTEM" },
    "done",
    "done",
    "done",
    "done",
  ], state);
  assert.ok(logs(out.effects).includes("Action shutdown called by SYSTEM"));
  assert.equal(out.state.local, "STOP");
});

Deno.test("farm automaton: stale or unknown script completions are ignored", () => {
  const { state } = run(farm, [cmd("start")]);
  const out = step(state, {
    kind: "scriptFinished",
    script: "prestart",
    runId: 99,
    exitCode: 0,
    timedOut: false,
  }, 0);
  assert.deepEqual(out.effects, []);
  assert.equal(out.state.job?.running?.name, "prestart");
});
