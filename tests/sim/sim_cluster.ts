// A whole cluster of MembershipServices on the simulated network, in virtual time: the full stack (automaton,
// wire payload, packet auth, transport) with faults from one seed.
import {
  type DatagramTransport,
  type MembershipChange,
  type MembershipCluster,
  MembershipService,
} from "../../src/heart/mod.ts";
import { MemoryNetwork, type NetworkFaults } from "./memory_transport.ts";
import { VirtualClock } from "./virtual_clock.ts";

export const SIM_KEY = new Uint8Array(32).fill(42);

export type SimClusterOptions = NetworkFaults & {
  nodes: number;
  lans?: number;
  seed?: number;
  pulseMs?: number;
  mlostCount?: number;
  slostCount?: number;
};

/** Node i (1-based) on lan k (1-based) has address 10.k.0.i. */
export const simAddr = (node: number, lan: number) => `10.${lan}.0.${node}`;

export class SimCluster {
  readonly clock = new VirtualClock(1_000_000);
  readonly network: MemoryNetwork;
  readonly cluster: MembershipCluster;
  readonly names: string[];
  readonly services = new Map<string, MembershipService>();
  /** Every change each node reported, with the virtual time it happened at. */
  readonly changes: { node: string; at: number; change: MembershipChange }[] = [];
  #starts = 0;

  constructor(options: SimClusterOptions) {
    this.network = new MemoryNetwork({ ...options, scheduler: this.clock });
    this.names = Array.from({ length: options.nodes }, (_, i) => `node${i + 1}`);
    this.cluster = {
      port: 4800,
      pulseMs: options.pulseMs ?? 100,
      mlostCount: options.mlostCount ?? 20,
      slostCount: options.slostCount ?? 10,
      lans: Array.from({ length: options.lans ?? 1 }, (_, k) => ({
        name: `lan${k + 1}`,
        nodes: this.names.map((name, i) => ({ name, addr: simAddr(i + 1, k + 1) })),
      })),
    };
  }

  start(name: string): MembershipService {
    const index = this.names.indexOf(name) + 1;
    const transports = new Map<string, DatagramTransport>(
      this.cluster.lans.map((
        lan,
        k,
      ) => [lan.name, this.network.bind({ addr: simAddr(index, k + 1), port: 4800 })]),
    );
    const service = new MembershipService({
      local: name,
      key: SIM_KEY,
      cluster: this.cluster,
      transports,
      clock: this.clock,
      // Deterministic, and growing across restarts like newBootEpoch.
      epoch: this.clock.now() * 1024 + (this.#starts++ % 1024),
    });
    service.onChange((change) => this.changes.push({ node: name, at: this.clock.now(), change }));
    this.services.set(name, service);
    return service;
  }

  startAll(): void {
    for (const name of this.names) this.start(name);
  }

  async stop(name: string): Promise<void> {
    await this.services.get(name)?.close();
    this.services.delete(name);
  }

  async stopAll(): Promise<void> {
    for (const name of [...this.services.keys()]) await this.stop(name);
  }

  /** Runs the cluster for `ms` of virtual time. */
  run(ms: number): void {
    this.clock.advance(ms);
  }

  views(): Record<string, string> {
    return Object.fromEntries([...this.services].map(([name, s]) => [name, s.view().join(",")]));
  }

  leaders(): Record<string, string | null> {
    return Object.fromEntries([...this.services].map(([name, s]) => [name, s.leader()]));
  }

  /** The first time at or after now, stepping by `stepMs`, when `predicate` holds; null if not within `withinMs`. */
  runUntil(predicate: () => boolean, withinMs: number, stepMs = 10): number | null {
    const start = this.clock.now();
    while (!predicate()) {
      if (this.clock.now() - start >= withinMs) return null;
      this.run(stepMs);
    }
    return this.clock.now();
  }
}
