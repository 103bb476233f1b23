// <rfs syncat>: the secondary synchronises at scheduled times only (spec §7.2, rule rfs_syncat_wait). Two
// nodes on the deterministic simulator: after each completed reintegration the secondary holds WAIT
// NotReady and the primary runs ALONE; `syncatDue` (the schedule, or `set -r rfs.syncat -v up`) brings it
// back as SECOND for a zones reintegration; a primary lost while the secondary holds is not taken over.
import assert from "node:assert/strict";
import { MirrorSim, quietNetwork } from "../sim/mirror_sim.ts";

const state = (sim: MirrorSim, n: string) => `${sim.node(n).state.local} ${sim.node(n).state.qual}`;
const logs = (sim: MirrorSim, n: string) => sim.node(n).logs.map((l) => l.message);

function started(): MirrorSim {
  const sim = new MirrorSim({ ...quietNetwork, seed: 11, config: { syncat: true } });
  sim.command("node1", "prim");
  sim.runUntil(3000);
  sim.command("node2", "second");
  sim.runUntil(15_000);
  return sim;
}

Deno.test("syncat: after its first synchronisation the secondary holds WAIT NotReady; the primary is ALONE", () => {
  const sim = started();
  assert.equal(state(sim, "node2"), "WAIT NotReady");
  assert.equal(state(sim, "node1"), "ALONE Ready");
  assert.deepEqual(sim.node("node2").resyncs, ["full"]);
  const l2 = logs(sim, "node2");
  assert.ok(l2.includes("Local state SECOND Ready"), "it was SECOND Ready before holding");
  assert.ok(l2.includes("Action wait from failover rule rfs_syncat_wait"));
  assert.deepEqual(sim.violations, []);
});

Deno.test("syncat: the schedule brings the secondary back for a zones reintegration, then it holds again", () => {
  const sim = started();
  sim.deliver("node2", { kind: "syncatDue" });
  sim.runUntil(16_000);
  assert.ok(
    logs(sim, "node2").includes(
      "Scheduled synchronization (syncat): Implicit_wakeup from failover rule rfs_syncat_wait",
    ),
  );
  sim.runUntil(30_000);
  assert.equal(state(sim, "node2"), "WAIT NotReady");
  assert.equal(state(sim, "node1"), "ALONE Ready");
  assert.deepEqual(sim.node("node2").resyncs, ["full", "zones"]);
  assert.equal(logs(sim, "node2").filter((m) => m === "Local state SECOND Ready").length, 2);
  // A syncatDue while not holding (already synchronising, or after a fresh start) changes nothing.
  sim.deliver("node1", { kind: "syncatDue" });
  sim.runUntil(35_000);
  assert.equal(state(sim, "node1"), "ALONE Ready");
  assert.deepEqual(sim.violations, []);
});

Deno.test("syncat: a primary lost while the secondary holds is not taken over (its data is not up to date)", () => {
  const sim = started();
  sim.crash("node1");
  sim.runUntil(40_000);
  assert.equal(state(sim, "node2"), "WAIT NotReady");
  assert.deepEqual(sim.violations, []);
});

Deno.test("syncat: without <rfs syncat> a secondary stays SECOND Ready", () => {
  const sim = new MirrorSim({ ...quietNetwork, seed: 11 });
  sim.command("node1", "prim");
  sim.runUntil(3000);
  sim.command("node2", "second");
  sim.runUntil(15_000);
  assert.equal(state(sim, "node2"), "SECOND Ready");
  assert.equal(state(sim, "node1"), "PRIM Ready");
});
