// Property: whatever the loss (≤ 20 %), duplication, reordering, partitions and restarts, once the network
// heals every node's view converges to the whole cluster with the same leader within slost×pulse plus two
// pulses, and stays there. Seeded; a failure names its seed. Re-run one with MEMBERSHIP_SEED=<n>.
import assert from "node:assert/strict";
import { randomInt, seededRandom } from "../sim/prng.ts";
import { simAddr, SimCluster } from "../sim/sim_cluster.ts";

const SEEDS = Deno.env.get("MEMBERSHIP_SEED")
  ? [Number(Deno.env.get("MEMBERSHIP_SEED"))]
  : Array.from({ length: 20 }, (_, i) => i + 1);

async function scenario(seed: number, log: string[]): Promise<void> {
  const random = seededRandom(seed * 7919);
  const nodes = randomInt(random, 2, 5);
  const lans = randomInt(random, 1, 2);
  const sim = new SimCluster({
    nodes,
    lans,
    seed,
    loss: random() * 0.2,
    duplicate: 0.05,
    reorder: 0.05,
    reorderMs: 30,
    delayMs: [0, 5],
  });
  log.push(`${nodes} nodes, ${lans} lans, loss ${(sim.network.faults.loss! * 100).toFixed(1)} %`);
  const allAddrs = (node: number) => Array.from({ length: lans }, (_, k) => simAddr(node, k + 1));
  const blockNodes = (a: number, b: number) => {
    for (let k = 1; k <= lans; k++) sim.network.block(simAddr(a, k), simAddr(b, k));
  };
  try {
    sim.startAll();
    sim.run(2000);
    for (let round = 0; round < 4; round++) {
      sim.network.heal();
      const fault = randomInt(random, 0, 4);
      const a = randomInt(random, 1, nodes);
      const b = (a % nodes) + 1;
      let restart: string | null = null;
      if (fault === 0) {
        for (const addr of allAddrs(a)) sim.network.isolate(addr);
        log.push(`isolate node${a}`);
      } else if (fault === 1) {
        blockNodes(a, b);
        log.push(`one-way node${a} -> node${b}`);
      } else if (fault === 2) {
        const side = Array.from({ length: nodes }, () => random() < 0.5);
        for (let i = 1; i <= nodes; i++) {
          for (let j = 1; j <= nodes; j++) if (side[i - 1] !== side[j - 1]) blockNodes(i, j);
        }
        log.push(`split ${side.map((s) => (s ? "A" : "B")).join("")}`);
      } else if (fault === 3) {
        restart = `node${a}`;
        await sim.stop(restart);
        log.push(`stop node${a}`);
      } else {
        for (let i = 1; i <= nodes; i++) sim.network.isolate(simAddr(i, lans));
        log.push(`lan${lans} down`);
      }
      sim.run(randomInt(random, 200, 2500));
      if (restart) sim.start(restart);
    }
    sim.network.heal();
    const whole = sim.names.join(",");
    const converged = () =>
      Object.values(sim.views()).every((v) => v === whole) &&
      Object.values(sim.leaders()).every((l) => l === "node1");
    const bound = sim.cluster.slostCount * sim.cluster.pulseMs + 2 * sim.cluster.pulseMs;
    const healedAt = sim.clock.now();
    const at = sim.runUntil(converged, bound);
    assert.ok(
      at !== null,
      `not converged ${bound} ms after healing: ${JSON.stringify(sim.views())} ${
        JSON.stringify(sim.leaders())
      }`,
    );
    log.push(`converged ${at - healedAt} ms after healing`);
    for (let t = 0; t < 3000; t += 100) {
      sim.run(100);
      assert.ok(converged(), `diverged again ${t} ms after converging: ${JSON.stringify(sim.views())}`);
    }
  } finally {
    await sim.stopAll();
  }
}

Deno.test("membership convergence: views agree on the whole cluster soon after partitions heal (seeded)", async () => {
  for (const seed of SEEDS) {
    const log: string[] = [];
    try {
      await scenario(seed, log);
    } catch (error) {
      console.error(`membership convergence failed with seed ${seed} (re-run with MEMBERSHIP_SEED=${seed})`);
      console.error(log.join("\n"));
      throw error;
    }
  }
});
