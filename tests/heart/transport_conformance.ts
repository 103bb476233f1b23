// One behaviour suite for every DatagramTransport: the real UDP one and the simulated in-memory one must both
// pass it, so what the simulator proves about the protocol also holds over real sockets.
import assert from "node:assert/strict";
import type { DatagramTransport, Endpoint } from "../../src/heart/transport.ts";
import { sameEndpoint } from "../../src/heart/transport.ts";

export type TransportPair = { a: DatagramTransport; b: DatagramTransport; dispose(): Promise<void> };
export type Received = { from: Endpoint; bytes: Uint8Array };

export async function waitFor(what: string, predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function collect(t: DatagramTransport): Received[] {
  const got: Received[] = [];
  t.onReceive((from, bytes) => got.push({ from, bytes }));
  return got;
}

export function transportConformance(name: string, makePair: () => Promise<TransportPair>): void {
  const cases: [string, (p: TransportPair) => Promise<void>][] = [
    ["delivers a datagram whole, from the sender's bound endpoint", async ({ a, b }) => {
      const got = collect(b);
      a.send(b.local, new Uint8Array([1, 2, 3]));
      await waitFor("one datagram", () => got.length === 1);
      assert.deepEqual([...got[0].bytes], [1, 2, 3]);
      assert.ok(sameEndpoint(got[0].from, a.local), `from ${JSON.stringify(got[0].from)}`);
    }],
    ["works in both directions", async ({ a, b }) => {
      const atA = collect(a), atB = collect(b);
      a.send(b.local, new Uint8Array([10]));
      b.send(a.local, new Uint8Array([20]));
      await waitFor("both datagrams", () => atA.length === 1 && atB.length === 1);
      assert.deepEqual([atA[0].bytes[0], atB[0].bytes[0]], [20, 10]);
    }],
    ["keeps datagram boundaries, up to a 1400-byte frame", async ({ a, b }) => {
      const got = collect(b);
      const sizes = [1, 700, 1400];
      for (const size of sizes) a.send(b.local, new Uint8Array(size).fill(size % 251));
      await waitFor("three datagrams", () => got.length === 3);
      const received = got.map((r) => r.bytes).sort((x, y) => x.length - y.length);
      assert.deepEqual(received.map((r) => r.length), sizes);
      for (const r of received) assert.ok(r.every((v) => v === r.length % 251));
    }],
    ["lets the sender reuse its buffer right after send", async ({ a, b }) => {
      const got = collect(b);
      const buffer = new Uint8Array([7, 7, 7]);
      a.send(b.local, buffer);
      buffer.fill(0);
      await waitFor("one datagram", () => got.length === 1);
      assert.deepEqual([...got[0].bytes], [7, 7, 7]);
    }],
    ["a later onReceive replaces the earlier handler", async ({ a, b }) => {
      const first = collect(b);
      const second = collect(b);
      a.send(b.local, new Uint8Array([1]));
      await waitFor("delivery to the second handler", () => second.length === 1);
      assert.equal(first.length, 0);
    }],
    ["sending where nobody listens neither throws nor reaches anyone else", async ({ a, b }) => {
      const got = collect(b);
      a.send({ addr: b.local.addr, port: b.local.port === 65000 ? 65001 : 65000 }, new Uint8Array([1]));
      await sleep(50);
      assert.equal(got.length, 0);
    }],
    ["after close: nothing is delivered, send is a no-op, close is idempotent", async ({ a, b }) => {
      const got = collect(b);
      await b.close();
      await b.close();
      a.send(b.local, new Uint8Array([1]));
      b.send(a.local, new Uint8Array([2]));
      const atA = collect(a);
      await sleep(50);
      assert.equal(got.length, 0);
      assert.equal(atA.length, 0);
    }],
  ];
  for (const [behaviour, body] of cases) {
    Deno.test(`${name} transport: ${behaviour}`, async () => {
      const pair = await makePair();
      try {
        await body(pair);
      } finally {
        await pair.dispose();
      }
    });
  }
}
