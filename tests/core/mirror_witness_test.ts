// The witness gate (<splitbrain> checker): a SECOND that loses every heartbeat takes over only after the
// witnesses answered since the loss; without an answer it stays SECOND (and the splitbrain_failure rule then
// sends it to WAIT), so an isolated secondary never starts the application. Deterministic simulator.
import assert from "node:assert/strict";
import { MirrorSim, quietNetwork } from "../sim/mirror_sim.ts";

const state = (sim: MirrorSim, n: string) => `${sim.node(n).state.local} ${sim.node(n).state.qual}`;
const logs = (sim: MirrorSim, n: string) => sim.node(n).logs.map((l) => l.message);

function paired(witnessGate: boolean): MirrorSim {
  const sim = new MirrorSim({ ...quietNetwork, seed: 5, config: { witnessGate } });
  sim.command("node1", "prim");
  sim.runUntil(3000);
  sim.command("node2", "second");
  sim.runUntil(15_000);
  assert.equal(state(sim, "node2"), "SECOND Ready");
  return sim;
}

Deno.test("witness gate: a SECOND cut off from the primary waits for the witnesses before taking over", () => {
  const sim = paired(true);
  sim.partition("total");
  sim.runUntil(25_000);
  assert.equal(state(sim, "node2"), "SECOND Ready", "no takeover without a verdict");
  assert.ok(
    logs(sim, "node2").includes("Heartbeats lost: asking the splitbrain witnesses before taking over"),
  );
  assert.ok(!logs(sim, "node2").includes("Action alone called by heart: no heartbeat"));
  // A verdict of "isolated" changes nothing here (the rule sends it to WAIT through waitRules).
  sim.deliver("node2", { kind: "witnessVerdict", reachable: false });
  sim.runUntil(27_000);
  assert.equal(state(sim, "node2"), "SECOND Ready");
  // The witness answered: the primary is the one cut off, take over.
  sim.deliver("node2", { kind: "witnessVerdict", reachable: true });
  sim.runUntil(30_000);
  assert.equal(state(sim, "node2"), "ALONE Ready");
  assert.ok(logs(sim, "node2").includes("Action alone called by heart: no heartbeat"));
});

Deno.test("witness gate: a verdict from before the heartbeats came back does not open the next loss", () => {
  const sim = paired(true);
  sim.partition("total");
  sim.runUntil(25_000);
  sim.deliver("node2", { kind: "witnessVerdict", reachable: false });
  sim.partition("heal");
  sim.runUntil(35_000);
  assert.equal(state(sim, "node2"), "SECOND Ready");
  assert.equal(state(sim, "node1"), "PRIM Ready");
  // A verdict delivered while the peer is heard is ignored; the next loss waits again.
  sim.deliver("node2", { kind: "witnessVerdict", reachable: true });
  sim.partition("total");
  sim.runUntil(45_000);
  assert.equal(state(sim, "node2"), "SECOND Ready");
});

Deno.test("witness gate off (checker off): the SECOND takes over at the heartbeat timeout, as before", () => {
  const sim = paired(true);
  sim.deliver("node2", { kind: "witnessGate", on: false });
  sim.partition("total");
  sim.runUntil(25_000);
  assert.equal(state(sim, "node2"), "ALONE Ready");
  const plain = paired(false);
  plain.partition("total");
  plain.runUntil(25_000);
  assert.equal(state(plain, "node2"), "ALONE Ready");
});
