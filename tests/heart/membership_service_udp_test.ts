// Membership over real UDP sockets on 127.0.0.2 and 127.0.0.3 (see loopback.ts for the fallback), with the
// system clock: what the simulator shows must also happen on the wire.
import assert from "node:assert/strict";
import {
  type DatagramTransport,
  type Endpoint,
  generateClusterKey,
  type MembershipChange,
  type MembershipCluster,
  MembershipService,
  MIN_FRAME_BYTES,
  type ReceiveHandler,
  seal,
} from "../../src/heart/mod.ts";
import { seededRandom } from "../sim/prng.ts";
import { openLoopback } from "./loopback.ts";
import { waitFor } from "./transport_conformance.ts";

const PULSE = 50, SLOST = 6, MLOST = 12;

/** Records what a node sends, as an attacker on the path could. */
class TappedTransport implements DatagramTransport {
  readonly sent: Uint8Array[] = [];
  constructor(private readonly inner: DatagramTransport) {}
  get local(): Endpoint {
    return this.inner.local;
  }
  send(to: Endpoint, bytes: Uint8Array): void {
    this.sent.push(bytes.slice());
    this.inner.send(to, bytes);
  }
  onReceive(handler: ReceiveHandler): void {
    this.inner.onReceive(handler);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

async function startPair() {
  const key = generateClusterKey();
  const t1 = await openLoopback("127.0.0.2");
  const t2 = new TappedTransport(await openLoopback("127.0.0.3"));
  const cluster: MembershipCluster = {
    port: 4800,
    pulseMs: PULSE,
    mlostCount: MLOST,
    slostCount: SLOST,
    lans: [{
      name: "default",
      nodes: [
        { name: "node1", addr: t1.local.addr, port: t1.local.port },
        { name: "node2", addr: t2.local.addr, port: t2.local.port },
      ],
    }],
  };
  const node1 = new MembershipService({
    local: "node1",
    key,
    cluster,
    transports: new Map([["default", t1]]),
  });
  const node2 = new MembershipService({
    local: "node2",
    key,
    cluster,
    transports: new Map([["default", t2]]),
  });
  await waitFor(
    "both nodes to see each other",
    () => node1.view().join() === "node1,node2" && node2.view().join() === "node1,node2",
  );
  return { key, node1, node2, t1, tap: t2 };
}

/** Closes `stopped` and measures how long `watcher` takes to report it down. */
async function timeToDown(watcher: MembershipService, stopped: MembershipService): Promise<number> {
  let downAt: number | null = null;
  watcher.onChange((c) => {
    if (c.kind === "nodeDown" && c.name === stopped.local) downAt = Date.now();
  });
  const stoppedAt = Date.now();
  await stopped.close();
  await waitFor(`${watcher.local} to see ${stopped.local} down`, () => downAt !== null, 5000);
  return downAt! - stoppedAt;
}

Deno.test("membership over UDP: two nodes see each other; a closed follower is seen down after about slost×pulse", async () => {
  const { node1, node2 } = await startPair();
  try {
    assert.equal(node1.leader(), "node1");
    assert.equal(node2.leader(), "node1");
    const elapsed = await timeToDown(node1, node2);
    // Lower bound: the last pulse left at most one pulse before the close. Upper: the timeout, one tick,
    // and slack for a loaded machine.
    assert.ok(
      elapsed >= (SLOST - 1) * PULSE && elapsed <= SLOST * PULSE + 400,
      `seen down after ${elapsed} ms`,
    );
    assert.deepEqual(node1.view(), ["node1"]);
  } finally {
    await Promise.all([node1.close(), node2.close()]);
  }
});

Deno.test("membership over UDP: a closed leader is seen down after about mlost×pulse and the follower leads", async () => {
  const { node1, node2 } = await startPair();
  try {
    const elapsed = await timeToDown(node2, node1);
    assert.ok(
      elapsed >= (MLOST - 1) * PULSE && elapsed <= MLOST * PULSE + 400,
      `seen down after ${elapsed} ms`,
    );
    assert.deepEqual([node2.view(), node2.leader()], [["node2"], "node2"]);
  } finally {
    await Promise.all([node1.close(), node2.close()]);
  }
});

Deno.test("membership over UDP: hostile datagrams are all dropped and counted, and the view does not move", async () => {
  const { node1, node2, t1, tap } = await startPair();
  const attacker = await openLoopback("127.0.0.4");
  try {
    const changes: MembershipChange[] = [];
    node1.onChange((c) => changes.push(c));
    await new Promise((resolve) => setTimeout(resolve, 3 * PULSE));
    assert.deepEqual(node1.counters().dropped, {});
    const random = seededRandom(99);
    const target = t1.local;
    for (let i = 0; i < 20; i++) {
      const garbage = new Uint8Array(60 + Math.floor(random() * 1200)).map(() => Math.floor(random() * 256));
      garbage[0] = 0; // never "S", so each is refused at the magic
      attacker.send(target, garbage);
    }
    attacker.send(target, new Uint8Array(1500));
    const captured = tap.sent.at(-3)!; // already delivered to node1
    for (let length = 0; length < captured.length; length++) {
      attacker.send(target, captured.subarray(0, length));
    }
    for (let i = 0; i < 10; i++) attacker.send(target, captured);
    const otherKey = generateClusterKey();
    for (let i = 0; i < 10; i++) {
      attacker.send(
        target,
        seal(otherKey, {
          kind: 1,
          sender: "node2",
          epoch: node2.epoch + 1,
          seq: 1e6 + i,
          payload: captured.subarray(0, 20),
        }),
      );
    }
    await waitFor("every hostile datagram to be handled", () => {
      const d = node1.counters().dropped;
      return (d.bad_magic ?? 0) + (d.oversized ?? 0) + (d.truncated ?? 0) + (d.bad_mac ?? 0) +
          (d.replayed ?? 0) ===
        20 + 1 + captured.length + 10 + 10;
    });
    assert.deepEqual(node1.counters().dropped, {
      bad_magic: 20,
      oversized: 1,
      truncated: MIN_FRAME_BYTES,
      bad_mac: captured.length - MIN_FRAME_BYTES + 10,
      replayed: 10,
    });
    assert.deepEqual(changes, []);
    assert.deepEqual(node1.view(), ["node1", "node2"]);
    // And node2's real pulses still get through.
    const accepted = node1.counters().accepted;
    await waitFor("more pulses from node2", () => node1.counters().accepted > accepted + 2);
  } finally {
    await Promise.all([node1.close(), node2.close(), attacker.close()]);
  }
});
