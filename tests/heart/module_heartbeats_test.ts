// Mirror heartbeats over real UDP on loopback: state flows both ways, a silent peer is reported lost after
// the timeout, and frames that are forged, replayed to another module or signed with another key are dropped.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { ModuleHeartbeats } from "../../src/heart/module_heartbeats.ts";

const key = crypto.getRandomValues(new Uint8Array(32));
const PORT = 28888;

function pair(module = "m", k1 = key, k2 = key) {
  const got = { a: [] as unknown[], b: [] as unknown[], lostA: [] as string[], lostB: [] as string[] };
  const link = (local: string, peer: string) => ({
    ident: "default",
    localAddr: local,
    peerAddr: peer,
    port: PORT,
    pulseMs: 50,
    timeoutMs: 400,
  });
  return Promise.all([
    ModuleHeartbeats.open({
      module,
      local: "node1",
      peer: "node2",
      key: k1,
      links: [link("127.0.0.2", "127.0.0.3")],
      onBeat: (_i, s) => got.a.push(s),
      onTimeout: (i) => got.lostA.push(i),
    }),
    ModuleHeartbeats.open({
      module,
      local: "node2",
      peer: "node1",
      key: k2,
      links: [link("127.0.0.3", "127.0.0.2")],
      onBeat: (_i, s) => got.b.push(s),
      onTimeout: (i) => got.lostB.push(i),
    }),
  ]).then(([a, b]) => ({ a, b, got }));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("heartbeats carry each side's state; silence is reported once after the timeout", async () => {
  const { a, b, got } = await pair();
  try {
    a.setState({ s: "PRIM" });
    b.setState({ s: "SECOND" });
    await sleep(200);
    assert.deepEqual(got.b.at(-1), { s: "PRIM" });
    assert.deepEqual(got.a.at(-1), { s: "SECOND" });
    await b.close();
    await sleep(700);
    assert.deepEqual(got.lostA, ["default"]);
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("frames with another key or junk are dropped and counted; nothing reaches the automaton", async () => {
  const other = crypto.getRandomValues(new Uint8Array(32));
  const { a, b, got } = await pair("m", key, other);
  try {
    a.setState({ s: "PRIM" });
    const sock = dgram.createSocket("udp4");
    await new Promise<void>((r) => sock.bind(0, "127.0.0.9", () => r()));
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((r) =>
        sock.send(crypto.getRandomValues(new Uint8Array(100)), PORT, "127.0.0.3", () => r())
      );
    }
    sock.close();
    await sleep(300);
    assert.equal(got.b.length, 0);
    const dropped = Object.values(b.counters.dropped).reduce((x, y) => x + y, 0);
    assert.ok(dropped >= 20, JSON.stringify(b.counters));
    assert.ok((b.counters.dropped["bad_mac"] ?? 0) > 0, JSON.stringify(b.counters));
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("a heartbeat of another module with the same key is refused", async () => {
  const x = await ModuleHeartbeats.open({
    module: "other",
    local: "node1",
    peer: "node2",
    key,
    links: [{
      ident: "default",
      localAddr: "127.0.0.2",
      peerAddr: "127.0.0.3",
      port: PORT,
      pulseMs: 50,
      timeoutMs: 400,
    }],
    onBeat: () => {},
    onTimeout: () => {},
  });
  const got: unknown[] = [];
  const y = await ModuleHeartbeats.open({
    module: "m",
    local: "node2",
    peer: "node1",
    key,
    links: [{
      ident: "default",
      localAddr: "127.0.0.3",
      peerAddr: "127.0.0.2",
      port: PORT,
      pulseMs: 50,
      timeoutMs: 400,
    }],
    onBeat: (_i, s) => got.push(s),
    onTimeout: () => {},
  });
  try {
    x.setState({ s: "PRIM" });
    await sleep(200);
    assert.equal(got.length, 0);
    assert.ok((y.counters.dropped["wrong_module"] ?? 0) > 0, JSON.stringify(y.counters));
  } finally {
    await x.close();
    await y.close();
  }
});

Deno.test("heartbeat round trip: echoes give the network round trip, not the pulse interval", async () => {
  const { MemoryNetwork } = await import("../sim/memory_transport.ts");
  // 20 ms each way; beats every 300 ms. Without subtracting the echo's age the measure would include the
  // wait for the next pulse (0-300 ms); with it, about 40 ms.
  const net = new MemoryNetwork({ delayMs: [20, 20] });
  const link = (local: string, peer: string) => ({
    ident: "default",
    localAddr: local,
    peerAddr: peer,
    port: 8888,
    pulseMs: 300,
    timeoutMs: 5000,
  });
  const open = (local: string, peer: string, me: string, other: string) =>
    ModuleHeartbeats.open({
      module: "m",
      local: me,
      peer: other,
      key,
      links: [link(local, peer)],
      onBeat: () => {},
      onTimeout: () => {},
      transports: new Map([["default", net.bind({ addr: local, port: 8888 })]]),
    });
  const a = await open("10.9.0.1", "10.9.0.2", "node1", "node2");
  const b = await open("10.9.0.2", "10.9.0.1", "node2", "node1");
  try {
    a.setState({ s: "PRIM" });
    b.setState({ s: "SECOND" });
    const samples: number[] = [];
    for (let i = 0; i < 40; i++) {
      await sleep(50);
      const r = a.roundTrips().default;
      if (r !== undefined) samples.push(r);
    }
    assert.ok(samples.length > 20, `measured ${samples.length} times`);
    samples.sort((x, y) => x - y);
    assert.ok(samples[0] >= 39, `never below the 40 ms of the network: ${samples}`);
    assert.ok(samples[samples.length >> 1] < 100, `median near 40 ms, not the pulse: ${samples}`);
    assert.deepEqual(Object.keys(b.roundTrips()), ["default"]);
  } finally {
    await a.close();
    await b.close();
  }
});
