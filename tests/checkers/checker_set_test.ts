import assert from "node:assert/strict";
import type { Checker as CheckerConfig } from "../../src/config/mod.ts";
import type { Checker } from "../../src/checkers/checker.ts";
import {
  type CheckerContext,
  checkerPhase,
  CheckerSet,
  componentOfResource,
} from "../../src/checkers/checker_set.ts";

const target = { addr: "127.0.0.1", intervalMs: 10_000, timeoutMs: 5_000 };
const configs: CheckerConfig[] = [
  { kind: "ping", ident: "gw", when: "pre", action: "wait", to: target, resource: "ping.gw" },
  {
    kind: "tcp",
    ident: "web",
    when: "prim",
    action: "restart",
    to: { ...target, port: 80 },
    resource: "tcp.web",
  },
  { kind: "ip", ident: "vip", when: "both", to: target, resource: "ip.vip" },
  { kind: "custom", ident: "c", when: "second", exec: "c.sh", action: "noaction", resource: "custom.c" },
  { kind: "intf", ident: "lan", when: "pre", localAddr: "127.0.0.1", resource: "intf.lan" },
  { kind: "module", name: "other", to: { ...target, port: 9010, secure: false }, resource: "module.other" },
];

const ctx: CheckerContext = {
  module: "mirror",
  scripts: { userBin: "/nonexistent", environment: () => ({}) },
};

/** A factory of recording checkers: the set's logic is checked without probing anything. */
function recordingSet(list: CheckerConfig[] = configs) {
  const events: string[] = [];
  const create = (c: CheckerConfig): Checker => ({
    resource: c.resource,
    start: () => events.push(`start ${c.resource}`),
    stop: () => {
      events.push(`stop ${c.resource}`);
      return Promise.resolve();
    },
  });
  return { events, set: new CheckerSet(list, () => {}, ctx, create) };
}

Deno.test("checkers without when run in pre", () => {
  assert.deepEqual(configs.map(checkerPhase), ["pre", "prim", "both", "second", "pre", "pre"]);
});

Deno.test("checker set starts and stops each checker with its phase", async () => {
  const { events, set } = recordingSet();
  await set.phaseStarted("pre");
  assert.deepEqual(events.splice(0), ["start ping.gw", "start intf.lan", "start module.other"]);
  await set.phaseStarted("both");
  await set.phaseStarted("prim");
  assert.deepEqual(events.splice(0), ["start ip.vip", "start tcp.web"]);
  await set.phaseEnding("prim");
  assert.deepEqual(events.splice(0), ["stop tcp.web"]);
  assert.deepEqual(set.running.sort(), ["intf.lan", "ip.vip", "module.other", "ping.gw"]);
  await set.stopAll();
  assert.deepEqual(events.splice(0).sort(), [
    "stop intf.lan",
    "stop ip.vip",
    "stop module.other",
    "stop ping.gw",
  ]);
});

Deno.test("checker off stops every checker; on starts again those of the active phases", async () => {
  const { events, set } = recordingSet();
  await set.phaseStarted("pre");
  await set.phaseStarted("second");
  events.length = 0;
  await set.setEnabled(false);
  assert.deepEqual(set.running, []);
  assert.equal(events.length, 4);
  events.length = 0;
  // A phase change while off starts nothing.
  await set.phaseStarted("prim");
  assert.deepEqual(events, []);
  await set.setEnabled(true);
  assert.deepEqual(events.sort(), [
    "start custom.c",
    "start intf.lan",
    "start module.other",
    "start ping.gw",
    "start tcp.web",
  ]);
});

Deno.test("reconfigure restarts changed checkers, stops removed ones and leaves the others running", async () => {
  const { events, set } = recordingSet();
  await set.phaseStarted("pre");
  events.length = 0;
  const changed: CheckerConfig = { ...configs[0], to: { ...target, addr: "127.0.0.2" } } as CheckerConfig;
  await set.reconfigure([changed, configs[4]]);
  assert.deepEqual(events, ["stop ping.gw", "stop module.other", "start ping.gw"]);
});

Deno.test("a real checker reports through the set with its SafeKit component", async () => {
  const reports: string[] = [];
  const set = new CheckerSet(
    [{ kind: "ip", ident: "lo", when: "prim", to: { ...target, intervalMs: 50 }, resource: "ip.lo" }],
    (r, v) => reports.push(`Resource ${r} set to ${v} by ${componentOfResource(r)}`),
    ctx,
  );
  await set.phaseStarted("prim");
  while (reports.length < 1) await new Promise((r) => setTimeout(r, 10));
  await set.stopAll();
  assert.deepEqual(reports, ["Resource ip.lo set to up by ipcheck"]);
  assert.equal(componentOfResource("tcp.id"), "tcpcheck");
  assert.equal(componentOfResource("module.other_10.0.0.1"), "modulecheck");
});
