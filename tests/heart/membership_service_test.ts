// The membership service over the simulated network, in virtual time.
import assert from "node:assert/strict";
import {
  encodeMembershipPayload,
  MEMBERSHIP_FRAME_KIND,
  type MembershipChange,
  seal,
} from "../../src/heart/mod.ts";
import { SIM_KEY, simAddr, SimCluster } from "../sim/sim_cluster.ts";

const all = (names: string[]) => names.join(",");

Deno.test("membership service: nodes see each other within a few pulses and agree on the lowest-named leader", async () => {
  const sim = new SimCluster({ nodes: 3, seed: 1, delayMs: [0, 2] });
  sim.startAll();
  sim.run(300);
  assert.deepEqual(sim.views(), {
    node1: "node1,node2,node3",
    node2: "node1,node2,node3",
    node3: "node1,node2,node3",
  });
  assert.deepEqual(sim.leaders(), { node1: "node1", node2: "node1", node3: "node1" });
  await sim.stopAll();
});

Deno.test("membership service: a stopped follower is seen down after slost×pulse", async () => {
  const sim = new SimCluster({ nodes: 3, seed: 2 });
  sim.startAll();
  sim.run(500);
  const stoppedAt = sim.clock.now();
  await sim.stop("node3");
  const seen = sim.runUntil(
    () => all([...sim.services.values()].map((s) => s.view().join("|"))) === "node1|node2,node1|node2",
    5000,
  );
  assert.ok(seen !== null);
  // The last pulse arrived within one pulse before the stop; loss is declared at the first tick after 1000 ms.
  assert.ok(seen - stoppedAt >= 900 && seen - stoppedAt <= 1110, `seen down after ${seen - stoppedAt} ms`);
  await sim.stopAll();
});

Deno.test("membership service: a stopped leader is seen down after mlost×pulse and the next name leads", async () => {
  const sim = new SimCluster({ nodes: 3, seed: 3 });
  sim.startAll();
  sim.run(500);
  const stoppedAt = sim.clock.now();
  await sim.stop("node1");
  const seen = sim.runUntil(() => sim.services.get("node3")!.leader() === "node2", 5000);
  assert.ok(seen !== null);
  assert.ok(seen - stoppedAt >= 1900 && seen - stoppedAt <= 2110, `new leader after ${seen - stoppedAt} ms`);
  assert.deepEqual(sim.views(), { node2: "node2,node3", node3: "node2,node3" });
  await sim.stopAll();
});

Deno.test("membership service: a restarted node is reported down (restarted) then up, without a leader change", async () => {
  const sim = new SimCluster({ nodes: 2, seed: 4 });
  sim.startAll();
  sim.run(500);
  const before = sim.clock.now();
  await sim.stop("node2");
  sim.run(300);
  sim.start("node2");
  sim.run(300);
  const atNode1 = sim.changes.filter((c) => c.node === "node1" && c.at > before).map((c) => c.change);
  assert.deepEqual(atNode1, [{ kind: "nodeDown", name: "node2", reason: "restarted" }, {
    kind: "nodeUp",
    name: "node2",
  }]);
  assert.equal(sim.services.get("node1")!.counters().dropped.replayed, undefined);
  await sim.stopAll();
});

Deno.test("membership service: losing one lan keeps the node up and reports that lan down", async () => {
  const sim = new SimCluster({ nodes: 2, lans: 2, seed: 5 });
  sim.startAll();
  sim.run(500);
  sim.network.block(simAddr(2, 2), simAddr(1, 2));
  sim.network.block(simAddr(1, 2), simAddr(2, 2));
  sim.run(3000);
  const node1 = sim.services.get("node1")!;
  assert.deepEqual(node1.view(), ["node1", "node2"]);
  assert.deepEqual(node1.lans(), [{ node: "node2", lan: "lan1", up: true }, {
    node: "node2",
    lan: "lan2",
    up: false,
  }]);
  sim.network.heal();
  sim.run(200);
  assert.deepEqual(node1.lans()[1], { node: "node2", lan: "lan2", up: true });
  await sim.stopAll();
});

Deno.test("membership service: listeners hear every change; a throwing listener is counted and the heartbeat goes on", async () => {
  const sim = new SimCluster({ nodes: 2, seed: 6 });
  const node1 = sim.start("node1");
  const heard: MembershipChange[] = [];
  node1.onChange((c) => heard.push(c));
  node1.onChange(() => {
    throw new Error("listener bug");
  });
  const error = console.error;
  console.error = () => {};
  try {
    sim.start("node2");
    sim.run(300);
  } finally {
    console.error = error;
  }
  assert.deepEqual(heard.map((c) => c.kind), ["nodeUp", "lanChanged", "viewChanged", "leaderChanged"]);
  assert.equal(node1.counters().listenerErrors, 4);
  assert.deepEqual(node1.view(), ["node1", "node2"]);
  await sim.stopAll();
});

Deno.test("membership service: reconfigure applies a new pulse and removes nodes", async () => {
  const sim = new SimCluster({ nodes: 3, seed: 7 });
  sim.startAll();
  sim.run(500);
  const node1 = sim.services.get("node1")!;
  const sentBefore = node1.counters().sent;
  sim.run(1000);
  const perSecondAt100 = node1.counters().sent - sentBefore;
  node1.reconfigure({
    ...sim.cluster,
    pulseMs: 50,
    lans: [{ ...sim.cluster.lans[0], nodes: sim.cluster.lans[0].nodes.slice(0, 2) }],
  });
  assert.deepEqual(node1.view(), ["node1", "node2"]);
  const sentAfter = node1.counters().sent;
  sim.run(1000);
  // 2 peers at 100 ms, then 1 peer at 50 ms: the same number of frames per second.
  assert.equal(perSecondAt100, 20);
  assert.equal(node1.counters().sent - sentAfter, 20);
  await sim.stopAll();
});

Deno.test("membership service: validly signed frames bound to another node, lan or protocol are dropped and counted", async () => {
  const sim = new SimCluster({ nodes: 3, seed: 8 });
  const node1 = sim.start("node1");
  // A key holder with a bug (or a replay of node2's pulse to node3) sending as node2 from node2's address.
  const rogue = sim.network.bind({ addr: simAddr(2, 1), port: 4800 });
  let seq = 0;
  const send = (kind: number, payload: Uint8Array) =>
    rogue.send(
      { addr: simAddr(1, 1), port: 4800 },
      seal(SIM_KEY, { kind, sender: "node2", epoch: 5, seq: seq++, payload }),
    );
  const pulse = (lan: string, to: string) =>
    encodeMembershipPayload({ lan, to, view: ["node2"], leader: null });
  send(MEMBERSHIP_FRAME_KIND, pulse("lan1", "node3"));
  send(MEMBERSHIP_FRAME_KIND, pulse("lan2", "node1"));
  send(7, pulse("lan1", "node1"));
  send(MEMBERSHIP_FRAME_KIND, new TextEncoder().encode("{not json"));
  send(
    MEMBERSHIP_FRAME_KIND,
    new TextEncoder().encode(`{"v":1,"lan":"lan1","to":"node1","view":["b","a"],"leader":null}`),
  );
  sim.run(100);
  assert.deepEqual(node1.counters().dropped, {
    wrong_destination: 1,
    wrong_lan: 1,
    wrong_kind: 1,
    bad_payload: 2,
  });
  assert.deepEqual(node1.view(), ["node1"]);
  // The correctly bound pulse is accepted.
  send(MEMBERSHIP_FRAME_KIND, pulse("lan1", "node1"));
  sim.run(100);
  assert.deepEqual(node1.view(), ["node1", "node2"]);
  await rogue.close();
  await sim.stopAll();
});
