import assert from "node:assert/strict";
import type { ErrdConfig, ErrdProc } from "../../src/config/mod.ts";
import {
  type ErrdEffect,
  type ErrdEvent,
  errdList,
  type ErrdState,
  errdStep,
  initialErrdState,
} from "../../src/errd/errd_automaton.ts";

function proc(p: Partial<ErrdProc> & { name: string }): ErrdProc {
  return {
    service: false,
    atLeast: 1,
    atMax: -1,
    action: { kind: "stopstart" },
    restartServices: [],
    class: "prim",
    resource: `proc.${p.name}`,
    ...p,
  };
}

/** Runs events; returns, per event, the effects rendered as short strings. */
function run(
  config: ErrdConfig,
  events: ErrdEvent[],
  state: ErrdState = initialErrdState(config),
): string[][] {
  const out: string[][] = [];
  for (const e of events) {
    const r = errdStep(config, state, e);
    state = r.state;
    out.push(r.effects.map(render));
  }
  return out;
}

function render(e: ErrdEffect): string {
  switch (e.kind) {
    case "log":
      return `log ${e.message}`;
    case "resource":
      return `${e.resource}=${e.value}`;
    case "action":
      return `action ${e.action} (${e.message})${
        e.services.length ? ` services=${e.services.join(",")}` : ""
      }`;
    case "runHandler":
      return `handler ${e.exe}`;
  }
}

const poll = (...counts: number[]): ErrdEvent => ({ kind: "poll", counts });
const enable = (c: string): ErrdEvent => ({ kind: "enableClass", class: c });
const disable = (c: string): ErrdEvent => ({ kind: "disableClass", class: c });

const scenarios: { name: string; procs: ErrdProc[]; events: ErrdEvent[]; effects: string[][] }[] = [
  {
    name: "nothing is evaluated before the class is enabled",
    procs: [proc({ name: "appli.exe" })],
    events: [poll(0), poll(0)],
    effects: [[], []],
  },
  {
    name: "a running process sets proc.<name> up once; its end logs, sets down and calls the action once",
    procs: [proc({ name: "appli.exe", action: { kind: "restart" } })],
    events: [enable("prim"), poll(1), poll(1), poll(0), poll(0)],
    effects: [
      [],
      ["proc.appli.exe=up"],
      [],
      [
        "proc.appli.exe=down",
        "log Process appli.exe not running",
        "action restart (Action restart called by errd)",
      ],
      [],
    ],
  },
  {
    name: "the default action is stopstart and restart_services goes with it",
    procs: [proc({ name: "svc", restartServices: ["S2", "S3"] })],
    events: [enable("prim"), poll(0)],
    effects: [[], [
      "proc.svc=down",
      "log Process svc not running",
      "action stopstart (Action stopstart called by errd) services=S2,S3",
    ]],
  },
  {
    name: "a service says Service",
    procs: [proc({ name: "mySQL", service: true, action: { kind: "stop" } })],
    events: [enable("prim"), poll(0)],
    effects: [[], [
      "proc.mySQL=down",
      "log Service mySQL not running",
      "action stop (Action stop called by errd)",
    ]],
  },
  {
    name: "atleast=2 fails with one process",
    procs: [proc({ name: "worker", atLeast: 2 })],
    events: [enable("prim"), poll(2), poll(1)],
    effects: [[], ["proc.worker=up"], [
      "proc.worker=down",
      "log Process worker not running",
      "action stopstart (Action stopstart called by errd)",
    ]],
  },
  {
    name: "atmax=0 acts whenever the process starts; atleast=-1 ignores absence",
    procs: [proc({ name: "forbidden", atLeast: -1, atMax: 0, action: { kind: "stop" } })],
    events: [enable("prim"), poll(0), poll(1)],
    effects: [[], ["proc.forbidden=up"], [
      "proc.forbidden=down",
      "log Process forbidden running 1 times (atmax 0)",
      "action stop (Action stop called by errd)",
    ]],
  },
  {
    name: "noaction logs and sets the resource only",
    procs: [proc({ name: "x", action: { kind: "noaction" } })],
    events: [enable("prim"), poll(0), poll(0), poll(1)],
    effects: [[], ["proc.x=down", "log Process x not running"], [], ["proc.x=up"]],
  },
  {
    name: "start_after=3 evaluates from the third poll after the class is enabled",
    procs: [proc({ name: "slow", startAfter: 3, action: { kind: "restart" } })],
    events: [enable("prim"), poll(0), poll(0), poll(0)],
    effects: [[], [], [], [
      "proc.slow=down",
      "log Process slow not running",
      "action restart (Action restart called by errd)",
    ]],
  },
  {
    name: "disabling the class stops evaluation; enabling again re-arms the action and start_after",
    procs: [proc({ name: "a", startAfter: 2, action: { kind: "restart" } })],
    events: [enable("prim"), poll(0), poll(0), disable("prim"), poll(0), enable("prim"), poll(0), poll(0)],
    effects: [
      [],
      [],
      ["proc.a=down", "log Process a not running", "action restart (Action restart called by errd)"],
      [],
      [],
      [],
      [],
      ["proc.a=down", "log Process a not running", "action restart (Action restart called by errd)"],
    ],
  },
  {
    name: "only the enabled class is evaluated; sec is the short form of second",
    procs: [
      proc({ name: "p", class: "prim" }),
      proc({ name: "s", class: "sec" }),
      proc({ name: "c", class: "batch" }),
    ],
    events: [enable("second"), poll(0, 0, 0), enable("batch"), poll(0, 0, 0)],
    effects: [
      [],
      ["proc.s=down", "log Process s not running", "action stopstart (Action stopstart called by errd)"],
      [],
      ["proc.c=down", "log Process c not running", "action stopstart (Action stopstart called by errd)"],
    ],
  },
  {
    name: "errd off suspends evaluation; back on, the process is evaluated afresh",
    procs: [proc({ name: "q", action: { kind: "restart" } })],
    events: [
      enable("prim"),
      poll(1),
      { kind: "setSwitch", on: false },
      poll(0),
      { kind: "setSwitch", on: true },
      poll(0),
    ],
    effects: [[], ["proc.q=up"], [], [], [], [
      "proc.q=down",
      "log Process q not running",
      "action restart (Action restart called by errd)",
    ]],
  },
  {
    name:
      "a handler runs once at a time, again at each failing poll after it ended; failing hands over to stopstart",
    procs: [proc({ name: "h", action: { kind: "handler", exe: "fix_h.sh" } })],
    events: [
      enable("prim"),
      poll(0),
      poll(0),
      { kind: "handlerDone", index: 0, exitCode: 0 },
      poll(0),
      { kind: "handlerDone", index: 0, exitCode: 3 },
      poll(1),
    ],
    effects: [
      [],
      ["proc.h=down", "log Process h not running", "handler fix_h.sh"],
      [],
      [],
      ["log Process h not running", "handler fix_h.sh"],
      ["action stopstart (Action stopstart called by errd)"],
      ["proc.h=up"],
    ],
  },
];

for (const s of scenarios) {
  Deno.test(`errd automaton: ${s.name}`, () => {
    assert.deepEqual(run({ pollTimerMs: 1000, procs: s.procs }, s.events), s.effects);
  });
}

Deno.test("errd list shows class, activation and value", () => {
  const config = { pollTimerMs: 1000, procs: [proc({ name: "a" }), proc({ name: "b", class: "both" })] };
  let state = initialErrdState(config);
  for (const e of [enable("prim"), poll(1, 0)]) state = errdStep(config, state, e).state;
  assert.deepEqual(errdList(config, state), [
    "proc.a class=prim enabled up",
    "proc.b class=both disabled init",
  ]);
});
