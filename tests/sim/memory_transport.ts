// The simulated DatagramTransport: an in-memory network with seeded faults (delay, loss, duplication,
// reordering, one-way and total partitions). It passes the same conformance suite as the UDP transport.
import type { DatagramTransport, Endpoint, ReceiveHandler } from "../../src/heart/transport.ts";
import { bareAddress } from "../../src/heart/transport.ts";
import { type Random, seededRandom } from "./prng.ts";
import { realScheduler, type Scheduler } from "./virtual_clock.ts";

export type NetworkFaults = {
  /** One-way delay, uniform in [min, max] ms. */
  delayMs?: readonly [number, number];
  /** Probability a datagram is lost. */
  loss?: number;
  /** Probability a datagram is delivered twice. */
  duplicate?: number;
  /** Probability a datagram is held back by an extra `reorderMs`, so later ones overtake it. */
  reorder?: number;
  reorderMs?: number;
};

export type MemoryNetworkOptions = NetworkFaults & { seed?: number; scheduler?: Scheduler };

const key = (e: Endpoint) => `${bareAddress(e.addr)}|${e.port}`;

export class MemoryNetwork {
  readonly random: Random;
  readonly scheduler: Scheduler;
  faults: NetworkFaults;
  #bound = new Map<string, MemoryTransport>();
  #blocked = new Set<string>(); // "from>to" by address; "*" matches any address
  #nextPort = 40000;
  #pending = new Set<() => void>();
  /** Datagrams handed to the network, delivered, and dropped (loss, partition, nobody bound). */
  readonly stats = { sent: 0, delivered: 0, dropped: 0 };

  constructor(options: MemoryNetworkOptions = {}) {
    this.random = seededRandom(options.seed ?? 1);
    this.scheduler = options.scheduler ?? realScheduler;
    this.faults = { ...options };
  }

  /** Binds an endpoint (port 0 = pick a free one); throws like EADDRINUSE if it is taken. */
  bind(local: Endpoint): MemoryTransport {
    const endpoint = {
      addr: bareAddress(local.addr),
      port: local.port === 0 ? this.#nextPort++ : local.port,
    };
    if (this.#bound.has(key(endpoint))) throw new Error(`EADDRINUSE ${endpoint.addr}:${endpoint.port}`);
    const transport = new MemoryTransport(this, endpoint);
    this.#bound.set(key(endpoint), transport);
    return transport;
  }

  /** Datagrams from `from` to `to` (addresses) are lost until healed; one-way. */
  block(from: string, to: string): void {
    this.#blocked.add(`${bareAddress(from)}>${bareAddress(to)}`);
  }

  /** Cuts `addr` off from everyone, both ways. */
  isolate(addr: string): void {
    this.block(addr, "*");
    this.block("*", addr);
  }

  heal(): void {
    this.#blocked.clear();
  }

  isBlocked(from: string, to: string): boolean {
    const f = bareAddress(from), t = bareAddress(to);
    return this.#blocked.has(`${f}>${t}`) || this.#blocked.has(`${f}>*`) || this.#blocked.has(`*>${t}`);
  }

  /** @internal used by MemoryTransport */
  unbind(transport: MemoryTransport): void {
    if (this.#bound.get(key(transport.local)) === transport) this.#bound.delete(key(transport.local));
  }

  /** @internal used by MemoryTransport */
  transmit(from: Endpoint, to: Endpoint, bytes: Uint8Array): void {
    this.stats.sent++;
    const f = this.faults;
    if (this.isBlocked(from.addr, to.addr) || this.random() < (f.loss ?? 0)) {
      this.stats.dropped++;
      return;
    }
    const copies = this.random() < (f.duplicate ?? 0) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const [min, max] = f.delayMs ?? [0, 0];
      let delay = min + this.random() * (max - min);
      if (this.random() < (f.reorder ?? 0)) delay += f.reorderMs ?? max + 1;
      const data = bytes.slice();
      const cancel = this.scheduler.schedule(delay, () => {
        this.#pending.delete(cancel);
        // Looked up at delivery time: a socket closed or re-bound meanwhile behaves as on a real host.
        const target = this.#bound.get(key(to));
        if (!target) {
          this.stats.dropped++;
          return;
        }
        this.stats.delivered++;
        target.deliver(from, data);
      });
      this.#pending.add(cancel);
    }
  }

  /** Drops every datagram still in flight (so no real timer outlives a test). */
  shutdown(): void {
    for (const cancel of this.#pending) cancel();
    this.stats.dropped += this.#pending.size;
    this.#pending.clear();
  }
}

export class MemoryTransport implements DatagramTransport {
  #handler: ReceiveHandler = () => {};
  #closed = false;

  constructor(private readonly network: MemoryNetwork, readonly local: Endpoint) {}

  send(to: Endpoint, bytes: Uint8Array): void {
    if (!this.#closed) this.network.transmit(this.local, to, bytes);
  }

  onReceive(handler: ReceiveHandler): void {
    this.#handler = handler;
  }

  /** @internal */
  deliver(from: Endpoint, bytes: Uint8Array): void {
    if (!this.#closed) this.#handler(from, bytes);
  }

  close(): Promise<void> {
    this.#closed = true;
    this.network.unbind(this);
    return Promise.resolve();
  }
}
