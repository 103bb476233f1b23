import assert from "node:assert/strict";
import {
  DEFAULT_MAXLOOP_CONFIG,
  initialMaxloopState,
  type MaxloopConfig,
  type MaxloopEffect,
  type MaxloopEvent,
  type MaxloopState,
  maxloopStep,
  stopstartloopValue,
} from "../../src/core/maxloop.ts";

const H = 3600_000;
const detector = (action: "restart" | "stopstart" | "wait" | "swap" | "stop" = "restart"): MaxloopEvent => ({
  kind: "action",
  action,
  identity: "c_app",
});
const admin = (action: "start" | "stop" | "restart" | "swap" | "stopstart" = "start"): MaxloopEvent => ({
  kind: "action",
  action,
});

type Scenario = {
  name: string;
  config?: Partial<MaxloopConfig>;
  events: [number, MaxloopEvent][];
  /** The decision for each event: allow | stop | reboot | 0 | 1 (incloop/resetloop/checkloop). */
  decisions: (string | number)[];
};

const SCENARIOS: Scenario[] = [
  {
    name: "the 4th detection within 24 h stops the module",
    events: [[0, detector()], [1 * H, detector("stopstart")], [2 * H, detector("wait")], [3 * H, detector()]],
    decisions: ["allow", "allow", "allow", "stop"],
  },
  {
    name: "an administrator command resets the counter",
    events: [
      [0, detector()],
      [H, detector()],
      [2 * H, detector()],
      [3 * H, admin()],
      [4 * H, detector()],
      [
        5 * H,
        detector(),
      ],
      [6 * H, detector()],
      [7 * H, detector()],
    ],
    decisions: ["allow", "allow", "allow", "allow", "allow", "allow", "allow", "stop"],
  },
  {
    name: "an administrator restart or swap (no identity) also resets it",
    events: [
      [0, detector()],
      [1, detector()],
      [2, detector()],
      [3, admin("restart")],
      [4, detector()],
      [
        5,
        admin("swap"),
      ],
      [6, detector()],
      [7, detector()],
      [8, detector()],
    ],
    decisions: ["allow", "allow", "allow", "allow", "allow", "allow", "allow", "allow", "allow"],
  },
  {
    name: "the counter resets when loop_interval expires since its first detection",
    events: [[0, detector()], [10 * H, detector()], [20 * H, detector()], [24 * H, detector()], [
      25 * H,
      detector(),
    ], [
      26 * H,
      detector(),
    ], [27 * H, detector()]],
    decisions: ["allow", "allow", "allow", "allow", "allow", "allow", "stop"],
  },
  {
    name: "a 4th detection just before the interval ends still stops",
    events: [[0, detector()], [1, detector()], [2, detector()], [24 * H - 1, detector()]],
    decisions: ["allow", "allow", "allow", "stop"],
  },
  {
    name: "loop_interval 0 disables maxloop",
    config: { loopIntervalMs: 0 },
    events: Array.from({ length: 10 }, (_, i) => [i, detector()] as [number, MaxloopEvent]),
    decisions: Array(10).fill("allow"),
  },
  {
    name: "maxloop 1: the second detection stops",
    config: { maxLoop: 1 },
    events: [[0, detector()], [1, detector()]],
    decisions: ["allow", "stop"],
  },
  {
    name: "a detector's stop is not counted",
    events: [
      [0, detector()],
      [1, detector()],
      [2, detector("stop")],
      [3, detector("stop")],
      [4, detector()],
      [
        5,
        detector(),
      ],
    ],
    decisions: ["allow", "allow", "allow", "allow", "allow", "stop"],
  },
  {
    name: "automatic_reboot: a detector's stopstart reboots, other actions do not",
    config: { automaticReboot: true },
    events: [[0, detector("stopstart")], [1, detector("restart")], [2, admin("stopstart")], [
      3,
      detector("wait"),
    ]],
    decisions: ["reboot", "allow", "allow", "allow"],
  },
  {
    name: "automatic_reboot: maxloop still stops the 4th detection instead of rebooting",
    config: { automaticReboot: true },
    events: [[0, detector("stopstart")], [1, detector("stopstart")], [2, detector("stopstart")], [
      3,
      detector("stopstart"),
    ]],
    decisions: ["reboot", "reboot", "reboot", "stop"],
  },
  {
    name: "without automatic_reboot a stopstart never reboots",
    events: [[0, detector("stopstart")]],
    decisions: ["allow"],
  },
  {
    name: "incloop returns 1 once the limit is passed; checkloop tells whether it is",
    events: [
      [0, { kind: "checkloop" }],
      [0, { kind: "incloop", handler: "restart_myappli" }],
      [1, { kind: "incloop", handler: "restart_myappli" }],
      [2, { kind: "incloop", handler: "restart_myappli" }],
      [3, { kind: "checkloop" }],
      [4, { kind: "incloop", handler: "restart_myappli" }],
      [5, { kind: "checkloop" }],
      [24 * H, { kind: "checkloop" }],
    ],
    decisions: [0, 0, 0, 0, 0, 1, 1, 0],
  },
  {
    name: "incloop and detector actions share the counter; resetloop clears it",
    events: [
      [0, detector()],
      [1, { kind: "incloop", handler: "h" }],
      [2, detector()],
      [3, { kind: "resetloop", handler: "h" }],
      [4, detector()],
      [5, detector()],
      [6, { kind: "incloop", handler: "h" }],
      [7, { kind: "incloop", handler: "h" }],
    ],
    decisions: ["allow", 0, "allow", 0, "allow", "allow", 0, 1],
  },
  {
    name: "loop_interval 0: incloop and checkloop always answer 0",
    config: { loopIntervalMs: 0 },
    events: [
      [0, { kind: "incloop", handler: "h" }],
      [1, { kind: "incloop", handler: "h" }],
      [2, {
        kind: "incloop",
        handler: "h",
      }],
      [3, { kind: "incloop", handler: "h" }],
      [4, { kind: "incloop", handler: "h" }],
      [5, { kind: "checkloop" }],
    ],
    decisions: [0, 0, 0, 0, 0, 0],
  },
];

function decision(effects: MaxloopEffect[]): string | number {
  const main = effects.filter((e) => e.kind !== "resource");
  assert.equal(main.length, 1);
  const e = main[0];
  return e.kind === "result" ? e.code : e.kind;
}

for (const s of SCENARIOS) {
  Deno.test(`maxloop: ${s.name}`, () => {
    const config = { ...DEFAULT_MAXLOOP_CONFIG, ...s.config };
    let state: MaxloopState = initialMaxloopState();
    const decisions: (string | number)[] = [];
    for (const [now, event] of s.events) {
      const out = maxloopStep(state, event, now, config);
      state = out.state;
      decisions.push(decision(out.effects));
    }
    assert.deepEqual(decisions, s.decisions);
  });
}

Deno.test("maxloop: the stop effect carries the documented log line", () => {
  let state = initialMaxloopState();
  let last: MaxloopEffect[] = [];
  for (let i = 0; i < 4; i++) ({ state, effects: last } = maxloopStep(state, detector(), i * 1000));
  assert.deepEqual(last.filter((e) => e.kind === "stop"), [{
    kind: "stop",
    log: "Action stop called by maxloop",
  }]);
});

Deno.test("maxloop: heart.stopstartloop holds the epoch seconds of the counter start, 0 when reset", () => {
  const t0 = 1_700_000_000_500;
  let out = maxloopStep(initialMaxloopState(), detector(), t0);
  assert.deepEqual(out.effects, [{ kind: "allow" }, {
    kind: "resource",
    name: "heart.stopstartloop",
    value: "1700000000",
  }]);
  out = maxloopStep(out.state, detector(), t0 + 1000);
  assert.deepEqual(out.effects, [{ kind: "allow" }], "unchanged while the counter runs");
  assert.equal(stopstartloopValue(out.state), "1700000000");
  out = maxloopStep(out.state, detector(), t0 + 25 * H);
  assert.deepEqual(out.effects.at(-1), {
    kind: "resource",
    name: "heart.stopstartloop",
    value: "1700090000",
  });
  out = maxloopStep(out.state, admin(), t0 + 26 * H);
  assert.deepEqual(out.effects, [{ kind: "allow" }, {
    kind: "resource",
    name: "heart.stopstartloop",
    value: "0",
  }]);
  assert.deepEqual(out.state, { count: 0, since: null });
});

Deno.test("maxloop: the state is plain data that survives a JSON round trip (persisted across reboots)", () => {
  let state = initialMaxloopState();
  for (let i = 0; i < 3; i++) state = JSON.parse(JSON.stringify(maxloopStep(state, detector(), i).state));
  assert.deepEqual(maxloopStep(state, detector(), 3).effects[0], {
    kind: "stop",
    log: "Action stop called by maxloop",
  });
});
