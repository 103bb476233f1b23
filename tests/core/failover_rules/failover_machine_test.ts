import assert from "node:assert/strict";
import {
  type FailoverMachineState,
  failoverMachineStep,
  initialFailoverState,
  parseRules,
  type RuleSet,
  staticRules,
} from "../../../src/core/failover_rules/mod.ts";

type Tick = {
  at: number;
  local: Record<string, string>;
  remote?: Record<string, string> | null;
  clusterUp?: boolean;
  /** Send a reset (module restarted) before this tick. */
  reset?: boolean;
};

type Scenario = {
  name: string;
  rules: string;
  withStatic?: boolean;
  periodMs?: number;
  handleTimeMs?: number;
  start?: "starting" | "running";
  ticks: Tick[];
  /** [time, log line] of every effect. */
  logs: [number, string][];
  /** Module mode after the last tick. */
  mode?: FailoverMachineState["mode"];
  transient?: boolean;
};

const RESTART = "c_app: if (custom.app == down) then restart();";
const WAIT = "p_testR2: if (ping.testR2 == down) then wait();";
const down = (...names: string[]) => Object.fromEntries(names.map((n) => [n, "down"]));
const up = (...names: string[]) => Object.fromEntries(names.map((n) => [n, "up"]));
const every = (from: number, to: number, local: Record<string, string>, step = 5000): Tick[] =>
  Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => ({ at: from + i * step, local }));

const SCENARIOS: Scenario[] = [
  {
    name: "an action applies once its rule has fired for handle_time (4th evaluation with 5 s / 15 s)",
    rules: RESTART,
    start: "running",
    ticks: [{ at: 0, local: up("custom.app") }, ...every(5000, 20000, down("custom.app"))],
    logs: [[20000, "Action restart from failover rule c_app"]],
  },
  {
    name: "a condition that persists re-applies its action every handle_time",
    rules: RESTART,
    start: "running",
    ticks: every(0, 30000, down("custom.app")),
    logs: [[15000, "Action restart from failover rule c_app"], [
      30000,
      "Action restart from failover rule c_app",
    ]],
  },
  {
    name: "a flapping resource never acts: the streak restarts when the rule stops firing",
    rules: RESTART,
    start: "running",
    ticks: [
      ...every(0, 10000, down("custom.app")),
      { at: 15000, local: up("custom.app") },
      ...every(20000, 30000, down("custom.app")),
      { at: 35000, local: up("custom.app") },
    ],
    logs: [],
  },
  {
    name: "handle_time 0 applies at the first firing evaluation",
    rules: RESTART,
    handleTimeMs: 0,
    start: "running",
    ticks: [{ at: 0, local: up("custom.app") }, { at: 5000, local: down("custom.app") }],
    logs: [[5000, "Action restart from failover rule c_app"]],
  },
  {
    name: "period 2 s and handle_time 6 s",
    rules: RESTART,
    periodMs: 2000,
    handleTimeMs: 6000,
    start: "running",
    ticks: every(0, 8000, down("custom.app"), 2000),
    logs: [[6000, "Action restart from failover rule c_app"]],
  },
  {
    name: "a stall of more than 2 periods between evaluations restarts the streak",
    rules: RESTART,
    start: "running",
    ticks: [...every(0, 5000, down("custom.app")), ...every(20000, 35000, down("custom.app"))],
    logs: [[35000, "Action restart from failover rule c_app"]],
  },
  {
    name: "start-up: an init resource of a wait rule keeps WAIT (Transient), then wakeup",
    rules: "",
    withStatic: true,
    ticks: [
      { at: 0, local: { "intf.10.0.0.0": "init", "intf.10.1.0.0": "up" } },
      { at: 5000, local: { "intf.10.0.0.0": "init", "intf.10.1.0.0": "up" } },
      { at: 10000, local: up("intf.10.0.0.0", "intf.10.1.0.0") },
    ],
    logs: [
      [0, "Transition WAIT_TR from failover rule interface_failure"],
      [10000, "Action wakeup from failover rule Implicit_wakeup"],
    ],
    mode: "running",
  },
  {
    name: "start-up with no wait resource pending: running at once, nothing logged",
    rules: WAIT,
    ticks: [{ at: 0, local: up("ping.testR2") }],
    logs: [],
    mode: "running",
  },
  {
    name:
      "start-up: init then down keeps WAIT (Transient) until the wait rule is stable, then WAIT (NotReady)",
    rules: WAIT,
    ticks: [
      { at: 0, local: { "ping.testR2": "init" } },
      ...every(5000, 20000, down("ping.testR2")),
      ...every(25000, 30000, down("ping.testR2")),
    ],
    logs: [
      [0, "Transition WAIT_TR from failover rule p_testR2"],
      [20000, "Action wait from failover rule p_testR2"],
    ],
    mode: "waiting",
    transient: false,
  },
  {
    name: "running: a stable wait rule waits, and the module wakes up when the resource is back up",
    rules: WAIT,
    start: "running",
    ticks: [...every(0, 25000, down("ping.testR2")), { at: 30000, local: up("ping.testR2") }],
    logs: [
      [15000, "Action wait from failover rule p_testR2"],
      [30000, "Action wakeup from failover rule Implicit_wakeup"],
    ],
    mode: "running",
  },
  {
    name: "running: an init wait resource does not stop a running module",
    rules: WAIT,
    start: "running",
    ticks: every(0, 30000, { "ping.testR2": "init" }),
    logs: [],
    mode: "running",
  },
  {
    name:
      "waiting: when the wait rule stops firing but a wait resource is init, WAIT (Transient) before wakeup",
    rules: `${WAIT}\np_other: if (ping.other == down) then wait();`,
    start: "running",
    ticks: [
      ...every(0, 15000, { "ping.testR2": "down", "ping.other": "up" }),
      { at: 20000, local: { "ping.testR2": "up", "ping.other": "init" } },
      { at: 25000, local: { "ping.testR2": "up", "ping.other": "up" } },
    ],
    logs: [
      [15000, "Action wait from failover rule p_testR2"],
      [20000, "Transition WAIT_TR from failover rule p_other"],
      [25000, "Action wakeup from failover rule Implicit_wakeup"],
    ],
  },
  {
    name: "simultaneous actions: stop beats wait, stopstart and restart",
    rules:
      `${RESTART}\nss: if (tcp.x == down) then stopstart();\n${WAIT}\ns: if (custom.fatal == down) then stop();`,
    start: "running",
    ticks: every(0, 15000, down("custom.app", "tcp.x", "ping.testR2", "custom.fatal")),
    logs: [[15000, "Action stop from failover rule s"]],
  },
  {
    name: "simultaneous actions: wait beats stopstart, then restart and stopstart are held while waiting",
    rules: `${RESTART}\nss: if (tcp.x == down) then stopstart();\n${WAIT}`,
    start: "running",
    ticks: every(0, 40000, down("custom.app", "tcp.x", "ping.testR2")),
    logs: [[15000, "Action wait from failover rule p_testR2"]],
    mode: "waiting",
  },
  {
    name: "simultaneous actions: stopstart beats restart; every stable streak restarts with it",
    rules: `${RESTART}\nss: if (tcp.x == down) then stopstart();`,
    start: "running",
    ticks: every(0, 30000, down("custom.app", "tcp.x")),
    logs: [[15000, "Action stopstart from failover rule ss"], [
      30000,
      "Action stopstart from failover rule ss",
    ]],
  },
  {
    name: "stop still applies while waiting",
    rules: `${WAIT}\ns: if (custom.fatal == down) then stop();`,
    start: "running",
    ticks: [
      ...every(0, 15000, { "ping.testR2": "down", "custom.fatal": "up" }),
      ...every(20000, 35000, { "ping.testR2": "down", "custom.fatal": "down" }),
    ],
    logs: [[15000, "Action wait from failover rule p_testR2"], [35000, "Action stop from failover rule s"]],
  },
  {
    name: "an assignment rule sets its resource once stable (rfs_forceuptodate on an isolated node)",
    rules:
      "rfs_forceuptodate: if (heartbeat.* == down && cluster() == down && rfs.synced == up && rfs.uptodate == down) then rfs.uptodate=up;",
    start: "running",
    ticks: [
      ...every(0, 15000, { "heartbeat.default": "down", "rfs.synced": "up", "rfs.uptodate": "down" }).map((
        t,
      ) => ({
        ...t,
        clusterUp: false,
      })),
      {
        at: 20000,
        local: { "heartbeat.default": "down", "rfs.synced": "up", "rfs.uptodate": "up" },
        clusterUp: false,
      },
    ],
    logs: [[15000, "Resource rfs.uptodate set to up by failover rule rfs_forceuptodate"]],
  },
  {
    name: "remote resources: a rule on the peer's state acts only while the peer is known",
    rules: "peer_down: if (remote.custom.app == down) then swap();",
    start: "running",
    ticks: [
      ...every(0, 10000, { "custom.app": "up" }).map((t) => ({ ...t, remote: down("custom.app") })),
      ...every(15000, 30000, { "custom.app": "up" }).map((t) => ({ ...t, remote: null })),
      ...every(35000, 50000, { "custom.app": "up" }).map((t) => ({ ...t, remote: down("custom.app") })),
    ],
    logs: [[50000, "Action swap from failover rule peer_down"]],
  },
  {
    name: "a reset (module restarted) forgets streaks and starts deciding afresh",
    rules: RESTART,
    start: "running",
    ticks: [
      ...every(0, 10000, down("custom.app")),
      ...every(15000, 25000, down("custom.app")).map((t, i) => ({ ...t, reset: i === 0 })),
      { at: 30000, local: down("custom.app") },
    ],
    logs: [[30000, "Action restart from failover rule c_app"]],
  },
];

for (const s of SCENARIOS) {
  Deno.test(`failover machine: ${s.name}`, () => {
    const user = s.rules === "" ? [] : parseRules({ text: s.rules, line: 1, column: 1 });
    const ruleSet: RuleSet = {
      rules: [...(s.withStatic ? staticRules({ mode: "farm" }) : []), ...user],
      periodMs: s.periodMs ?? 5000,
      handleTimeMs: s.handleTimeMs ?? 15000,
    };
    let state: FailoverMachineState = s.start === "running"
      ? { ...initialFailoverState(), mode: "running" }
      : initialFailoverState();
    const logs: [number, string][] = [];
    for (const t of s.ticks) {
      if (t.reset) state = failoverMachineStep(state, { kind: "reset" }, ruleSet).state;
      const out = failoverMachineStep(state, {
        kind: "tick",
        now: t.at,
        resources: {
          local: new Map(Object.entries(t.local)),
          remote: t.remote === undefined || t.remote === null ? t.remote : new Map(Object.entries(t.remote)),
        },
        clusterUp: t.clusterUp,
      }, ruleSet);
      state = out.state;
      for (const e of out.effects) logs.push([t.at, e.log]);
    }
    assert.deepEqual(logs, s.logs);
    if (s.mode !== undefined) assert.equal(state.mode, s.mode);
    if (s.transient !== undefined) assert.equal(state.transient, s.transient);
  });
}

Deno.test("failover machine: effects carry the action and rule as data", () => {
  const ruleSet: RuleSet = {
    rules: parseRules({ text: WAIT, line: 1, column: 1 }),
    periodMs: 5000,
    handleTimeMs: 0,
  };
  const out = failoverMachineStep({ ...initialFailoverState(), mode: "running" }, {
    kind: "tick",
    now: 0,
    resources: { local: new Map([["ping.testR2", "down"]]) },
  }, ruleSet);
  assert.deepEqual(out.effects, [
    { kind: "action", action: "wait", rule: "p_testR2", log: "Action wait from failover rule p_testR2" },
  ]);
  assert.equal(out.state.waitRule, "p_testR2");
  assert.equal(out.state.transient, false);
});
