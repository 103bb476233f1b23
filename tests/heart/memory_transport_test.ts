import assert from "node:assert/strict";
import { MemoryNetwork } from "../sim/memory_transport.ts";
import { VirtualClock } from "../sim/virtual_clock.ts";
import { transportConformance } from "./transport_conformance.ts";

transportConformance("memory", () => {
  const network = new MemoryNetwork({ seed: 7, delayMs: [0, 2] });
  const a = network.bind({ addr: "127.0.0.2", port: 0 });
  const b = network.bind({ addr: "127.0.0.3", port: 0 });
  return Promise.resolve({
    a,
    b,
    dispose: async () => {
      await Promise.all([a.close(), b.close()]);
      network.shutdown();
    },
  });
});

// The faults the simulator injects, checked in virtual time.
function pair(options: ConstructorParameters<typeof MemoryNetwork>[0]) {
  const clock = new VirtualClock();
  const network = new MemoryNetwork({ ...options, scheduler: clock });
  const a = network.bind({ addr: "10.0.0.1", port: 4800 });
  const b = network.bind({ addr: "10.0.0.2", port: 4800 });
  const got: number[] = [];
  b.onReceive((_from, bytes) => got.push(bytes[0]));
  return { clock, network, a, b, got };
}

Deno.test("memory network: loss rate follows the seeded probability", () => {
  const { clock, a, b, got } = pair({ seed: 3, loss: 0.2 });
  for (let i = 0; i < 2000; i++) a.send(b.local, new Uint8Array([1]));
  clock.advance(10);
  assert.ok(got.length > 1500 && got.length < 1700, `delivered ${got.length} of 2000`);
});

Deno.test("memory network: the same seed gives the same fault schedule", () => {
  const run = () => {
    const { clock, a, b, got } = pair({ seed: 11, loss: 0.3, duplicate: 0.1, delayMs: [1, 9] });
    for (let i = 0; i < 100; i++) a.send(b.local, new Uint8Array([i]));
    clock.advance(100);
    return got;
  };
  assert.deepEqual(run(), run());
});

Deno.test("memory network: duplication delivers some datagrams twice", () => {
  const { clock, a, b, got } = pair({ seed: 5, duplicate: 0.5 });
  for (let i = 0; i < 100; i++) a.send(b.local, new Uint8Array([i]));
  clock.advance(10);
  assert.ok(got.length > 120 && got.length < 180, `delivered ${got.length}`);
});

Deno.test("memory network: random delay and reorder let later datagrams overtake earlier ones", () => {
  const { clock, a, b, got } = pair({ seed: 9, delayMs: [1, 5], reorder: 0.2, reorderMs: 20 });
  for (let i = 0; i < 50; i++) a.send(b.local, new Uint8Array([i]));
  clock.advance(100);
  assert.equal(got.length, 50);
  assert.notDeepEqual(got, [...got].sort((x, y) => x - y));
});

Deno.test("memory network: a one-way partition blocks one direction only, heal restores it", () => {
  const { clock, network, a, b, got } = pair({ seed: 1 });
  const atA: number[] = [];
  a.onReceive((_f, bytes) => atA.push(bytes[0]));
  network.block("10.0.0.1", "10.0.0.2");
  a.send(b.local, new Uint8Array([1]));
  b.send(a.local, new Uint8Array([2]));
  clock.advance(10);
  assert.deepEqual([got, atA], [[], [2]]);
  network.heal();
  a.send(b.local, new Uint8Array([3]));
  clock.advance(10);
  assert.deepEqual(got, [3]);
});

Deno.test("memory network: isolating a node cuts it off both ways", () => {
  const { clock, network, a, b, got } = pair({ seed: 1 });
  const atA: number[] = [];
  a.onReceive((_f, bytes) => atA.push(bytes[0]));
  network.isolate("10.0.0.2");
  a.send(b.local, new Uint8Array([1]));
  b.send(a.local, new Uint8Array([2]));
  clock.advance(10);
  assert.deepEqual([got, atA], [[], []]);
});

Deno.test("memory network: binding a taken endpoint fails like EADDRINUSE", () => {
  const { network } = pair({});
  assert.throws(() => network.bind({ addr: "10.0.0.1", port: 4800 }), /EADDRINUSE/);
});
