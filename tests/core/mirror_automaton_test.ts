// One node's mirror automaton driven event by event: replies, effects and persisted facts.
import assert from "node:assert/strict";
import {
  defaultPersistentFacts,
  initialMirrorState,
  type MirrorConfig,
  type MirrorEffect,
  type MirrorEvent,
  type MirrorState,
  type PersistentFacts,
  step,
} from "../../src/core/mirror_automaton.ts";
import type { HeartbeatPayload } from "../../src/core/mirror_types.ts";

const config: MirrorConfig = {
  node: "node1",
  peer: "node2",
  heartbeats: ["default"],
  replicated: true,
  failover: "on",
  defaultprim: { kind: "alone" },
  maxSyncDeltaMs: 90_000,
  syncRefreshMs: 10_000,
};

function peer(patch: Partial<HeartbeatPayload> = {}): HeartbeatPayload {
  return {
    node: "node2",
    state: "STOP",
    qual: "NotReady",
    uptodate: false,
    syncTimestamp: null,
    term: null,
    formerSecond: false,
    swap: "none",
    swapNosync: false,
    requireFullSync: false,
    primBeforeStart: false,
    epoch: 1,
    ...patch,
  };
}

/** Feeds events at times; finishes every script as soon as it starts when `autoScripts` is set. */
function run(state: MirrorState, events: readonly (readonly [number, MirrorEvent])[], autoScripts = true) {
  const effects: MirrorEffect[] = [];
  const queue = [...events];
  let s = state;
  while (queue.length > 0) {
    const [at, e] = queue.shift()!;
    const out = step(s, e, at);
    s = out.state;
    effects.push(...out.effects);
    if (autoScripts) {
      for (const fx of out.effects) {
        if (fx.kind === "runScript") {
          queue.unshift([at, {
            kind: "scriptFinished",
            script: fx.name,
            runId: fx.runId,
            exitCode: 0,
            timedOut: false,
          }]);
        }
      }
    }
  }
  return { state: s, effects };
}
const logs = (fx: MirrorEffect[]) => fx.flatMap((e) => (e.kind === "log" ? [e.message] : []));
const local = (s: MirrorState) => `${s.local} ${s.qual}`;
const cmd = (id: string, verb: "start" | "stop" | "prim" | "second" | "forcestop" | "swap" | "restart") =>
  ({ kind: "command", id, verb, by: "root" }) as const;
const withFacts = (p: Partial<PersistentFacts>) =>
  initialMirrorState(config, { ...defaultPersistentFacts, ...p });

Deno.test("start with up-to-date data waits for the peer's state, then goes ALONE Ready when all heartbeats time out", () => {
  let r = run(withFacts({ uptodate: true, syncTimestamp: 0, term: { n: 1, by: "node1" } }), [[
    0,
    cmd("c1", "start"),
  ]]);
  assert.equal(local(r.state), "WAIT Transient");
  r = run(r.state, [[30_000, { kind: "heartbeatTimeout", ident: "default" }]]);
  assert.equal(local(r.state), "ALONE Ready");
  assert.ok(r.effects.some((e) => e.kind === "readyChanged" && e.ready));
  assert.equal(r.state.persist.term?.n, 2);
  assert.equal(r.state.persist.uptodate, true);
});

Deno.test("a synctimestamp delta over 90 s refuses automatic synchronization and stops the module", () => {
  const s0 = withFacts({ uptodate: false, syncTimestamp: 0, term: { n: 1, by: "node2" } });
  let r = run(s0, [[0, {
    kind: "heartbeat",
    ident: "default",
    payload: peer({ state: "ALONE", qual: "Ready", syncTimestamp: 200_000, term: { n: 2, by: "node2" } }),
  }]]);
  r = run(r.state, [[1000, cmd("c1", "start")]]);
  assert.ok(
    logs(r.effects).includes(
      "Automatic synchronization cannot be applied due to an abnormal delta between the dates of the last synchronization",
    ),
  );
  assert.equal(local(r.state), "STOP NotReady");
  assert.ok(!r.effects.some((e) => e.kind === "startResync"));
  // `second fullsync` is the way out
  r = run(r.state, [[2000, { kind: "command", id: "c2", verb: "second", by: "root", fullsync: true }]]);
  assert.deepEqual(r.effects.filter((e) => e.kind === "startResync"), [{
    kind: "startResync",
    mode: "full",
  }]);
});

Deno.test("a module without <rfs> becomes SECOND Ready at once, with no reintegration", () => {
  const s0 = initialMirrorState({ ...config, replicated: false });
  let r = run(s0, [[0, {
    kind: "heartbeat",
    ident: "default",
    payload: peer({ state: "ALONE", qual: "Ready", term: { n: 1, by: "node2" } }),
  }]]);
  r = run(r.state, [[10, cmd("c1", "second")]]);
  assert.equal(local(r.state), "SECOND Ready");
  assert.ok(!r.effects.some((e) => e.kind === "startResync"));
});

Deno.test("forcestop kills the running script and runs only the forced stop calls", () => {
  let r = run(withFacts({ uptodate: true }), [[0, cmd("c1", "prim")]]);
  assert.equal(local(r.state), "ALONE Ready");
  r = run(r.state, [[100, cmd("c2", "stop")]], false); // stop_prim (graceful) now running
  const running = r.state.job!.running!;
  assert.equal(running.call.name, "stop_prim");
  r = run(r.state, [[200, cmd("c3", "forcestop")]]);
  assert.deepEqual(r.effects.find((e) => e.kind === "killScript"), {
    kind: "killScript",
    name: "stop_prim",
    runId: running.runId,
  });
  const scripts = r.effects.flatMap((e) =>
    e.kind === "runScript" ? [`${e.name}${e.force ? " force" : ""}`] : []
  );
  assert.deepEqual(scripts, [
    "stop_prim force",
    "stop_sec force",
    "stop_both force",
    "poststop",
    "transition",
  ]);
  assert.equal(local(r.state), "STOP NotReady");
  // the killed script finishing late changes nothing
  const late = step(r.state, {
    kind: "scriptFinished",
    script: "stop_prim",
    runId: running.runId,
    exitCode: 137,
    timedOut: false,
  }, 300);
  assert.deepEqual(late.effects, []);
});

Deno.test("stop during a running action is accepted at once and applied when the action ends", () => {
  let r = run(withFacts({ uptodate: true }), [[0, cmd("c1", "prim")]], false); // prestart running
  r = run(r.state, [[10, cmd("c2", "stop")]], false);
  assert.deepEqual(r.effects.filter((e) => e.kind === "reply"), [{
    kind: "reply",
    commandId: "c2",
    ok: true,
  }]);
  assert.equal(r.state.deferred?.id, "c2");
  // finish everything: prim's scripts, then the stop's
  let s = r.state;
  for (let i = 0; i < 30 && s.job; i++) {
    const running = s.job.running!;
    s = step(s, {
      kind: "scriptFinished",
      script: running.call.name,
      runId: running.runId,
      exitCode: 0,
      timedOut: false,
    }, 20 + i).state;
  }
  assert.equal(local(s), "STOP NotReady");
});

Deno.test("a failing or timed-out script is logged and the automaton carries on", () => {
  let s = withFacts({ uptodate: true });
  const all: MirrorEffect[] = [];
  let out = step(s, cmd("c1", "prim"), 0);
  s = out.state;
  all.push(...out.effects);
  for (let i = 0; s.job && i < 20; i++) {
    const running = s.job.running!;
    const fail = running.call.name === "start_prim";
    out = step(s, {
      kind: "scriptFinished",
      script: running.call.name,
      runId: running.runId,
      exitCode: fail ? 2 : 0,
      timedOut: running.call.name === "prestart",
    }, i);
    s = out.state;
    all.push(...out.effects);
  }
  assert.equal(local(s), "ALONE Ready");
  assert.ok(logs(all).includes("Script start_prim failed with exit code 2"));
  assert.ok(logs(all).includes("Script prestart timed out"));
});

Deno.test("a reordered older heartbeat does not bring back an older peer state", () => {
  let r = run(initialMirrorState(config), [
    [0, { kind: "heartbeat", ident: "default", payload: peer({ state: "STOP", epoch: 5 }) }],
    [1, { kind: "heartbeat", ident: "default", payload: peer({ state: "ALONE", qual: "Ready", epoch: 4 }) }],
  ]);
  assert.equal(r.state.peer?.state, "STOP");
  r = run(r.state, [[2, cmd("c1", "prim")]]);
  assert.equal(local(r.state), "ALONE Ready");
});

Deno.test("heartbeat payloads carry an increasing epoch, persisted for the next process", () => {
  const r = run(withFacts({ uptodate: true, epoch: 41 }), [[0, { kind: "tick" }], [1, cmd("c1", "prim")]]);
  const epochs = r.effects.flatMap((e) => (e.kind === "setHeartbeatPayload" ? [e.payload.epoch] : []));
  assert.ok(epochs.length >= 3);
  assert.deepEqual(epochs, [...epochs].sort((a, b) => a - b));
  assert.equal(epochs[0], 42);
  assert.equal(r.state.persist.epoch, epochs.at(-1));
});

const bootCases = [
  { name: "boot=on starts after boot_delay", boot: "on", wasRunning: false, delay: 5000, startsAt: 5000 },
  {
    name: "boot=auto starts a module that was running",
    boot: "auto",
    wasRunning: true,
    delay: 0,
    startsAt: 0,
  },
  {
    name: "boot=auto leaves a stopped module stopped",
    boot: "auto",
    wasRunning: false,
    delay: 0,
    startsAt: null,
  },
  { name: "boot=off never starts", boot: "off", wasRunning: true, delay: 0, startsAt: null },
] as const;
for (const c of bootCases) {
  Deno.test(`boot: ${c.name}`, () => {
    let s = withFacts({ wasRunning: c.wasRunning });
    let startedAt: number | null = null;
    for (
      const [at, e] of [[0, { kind: "boot", boot: c.boot, bootDelayMs: c.delay }], [2500, { kind: "tick" }], [
        5000,
        { kind: "tick" },
      ]] as const
    ) {
      const out = step(s, e as MirrorEvent, at);
      s = out.state;
      if (startedAt === null && logs(out.effects).includes("Action start called at boot time")) {
        startedAt = at;
      }
    }
    assert.equal(startedAt, c.startsAt);
  });
}

Deno.test("stop from STOP answers ok; restart and swap outside a Ready pair are refused", () => {
  const r = run(initialMirrorState(config), [[0, cmd("c1", "stop")], [1, cmd("c2", "restart")], [
    2,
    cmd("c3", "swap"),
  ]]);
  assert.deepEqual(r.effects.filter((e) => e.kind === "reply"), [
    { kind: "reply", commandId: "c1", ok: true },
    {
      kind: "reply",
      commandId: "c2",
      ok: false,
      error: "cannot 'restart' module: it is not PRIM, ALONE or SECOND Ready (local state STOP NotReady)",
    },
    {
      kind: "reply",
      commandId: "c3",
      ok: false,
      error:
        "cannot 'swap' module: it needs a PRIM Ready / SECOND Ready pair (local STOP NotReady, remote UNKNOWN Unknown)",
    },
  ]);
});

Deno.test("resources follow the state: state.local, heartbeat.<ident>, rfs.uptodate", () => {
  const r = run(withFacts({ uptodate: true }), [[0, cmd("c1", "prim")], [10, {
    kind: "heartbeatTimeout",
    ident: "default",
  }]]);
  const res = r.effects.flatMap((e) => (e.kind === "setResource" ? [`${e.name}=${e.value}`] : []));
  assert.ok(res.includes("state.local=ALONE Ready"));
  assert.ok(res.includes("rfs.uptodate=up"));
  assert.ok(res.includes("heartbeat.default=down"));
});

Deno.test("wait rules: init keeps WAIT Transient, a firing rule stops the application into WAIT NotReady, wakeup resumes", () => {
  const scripts = (fx: MirrorEffect[]) =>
    fx.flatMap((e) => (e.kind === "runScript" ? [`${e.name} ${e.args.join(" ")}`] : []));
  let r = run(withFacts({ uptodate: true }), [
    [0, { kind: "heartbeatTimeout", ident: "default" }], // the peer is down: this node may run alone
    [0, { kind: "waitRules", status: "init" }],
    [0, cmd("c1", "prim")],
  ]);
  assert.equal(local(r.state), "WAIT Transient");
  r = run(r.state, [[10, { kind: "waitRules", status: "up" }]]);
  assert.equal(local(r.state), "ALONE Ready");
  r = run(r.state, [[20, { kind: "waitRules", status: "down", rule: "p_gw" }]]);
  assert.equal(local(r.state), "WAIT NotReady");
  const stopped = scripts(r.effects);
  assert.ok(stopped.includes("stop_prim ALONE WAIT stopwait"), stopped.join("\n"));
  assert.ok(!stopped.some((s) => s.startsWith("poststop")), "a wait keeps the module started: no poststop");
  assert.ok(r.effects.some((e) => e.kind === "readyChanged" && !e.ready));
  r = run(r.state, [[30, { kind: "waitRules", status: "up" }]]);
  assert.equal(local(r.state), "ALONE Ready");
  assert.ok(scripts(r.effects).some((s) => s.startsWith("start_prim")));
});
