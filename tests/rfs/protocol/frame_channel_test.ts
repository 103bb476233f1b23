// FrameChannel's writer: frames go out in send order, a frame sent while the writer is finishing is never
// stranded, large payloads are written from where they are, and received write payloads reuse buffers.

import assert from "node:assert/strict";
import { type ByteStream, FrameChannel } from "../../../src/rfs/protocol/frame_channel.ts";
import { FrameDecoder, PayloadPool } from "../../../src/rfs/protocol/frame_codec.ts";
import { poly1305FrameAuth } from "../../../src/rfs/protocol/frame_auth.ts";
import {
  decodeMessage,
  encodeMessage,
  encodeMessageParts,
  type Message,
} from "../../../src/rfs/protocol/messages.ts";

const KEY = new Uint8Array(32).fill(7);

/** A stream whose writes complete at once and whose bytes the test decodes afterwards. */
function recordingStream(): ByteStream & { written: Uint8Array[] } {
  const written: Uint8Array[] = [];
  return {
    written,
    read: () => new Promise<number | null>(() => {}),
    write: (p) => {
      written.push(p.slice());
      return Promise.resolve(p.length);
    },
    close: () => {},
  };
}

function decodeAll(chunks: Uint8Array[]): Message[] {
  const d = new FrameDecoder(KEY);
  const out: Message[] = [];
  for (const c of chunks) d.push(c);
  for (let f = d.next(); f !== null; f = d.next()) out.push(decodeMessage(f.type, f.payload));
  return out;
}

Deno.test("frame channel: a frame sent at any point while the writer finishes still goes out", async () => {
  for (let delay = 0; delay < 30; delay++) {
    const s = recordingStream();
    const ch = new FrameChannel(s, KEY, KEY);
    ch.send({ type: "welcome" });
    for (let i = 0; i < delay; i++) await Promise.resolve();
    ch.send({ type: "synced" });
    await ch.drained();
    for (let i = 0; i < 40; i++) await Promise.resolve();
    assert.deepEqual(
      decodeAll(s.written).map((m) => m.type),
      ["welcome", "synced"],
      `after ${delay} microtasks`,
    );
  }
});

Deno.test("frame channel: frames keep send order; a large frame goes out in one write of its own", async () => {
  const s = recordingStream();
  const ch = new FrameChannel(s, KEY, KEY);
  const data = new Uint8Array(256 * 1024).map((_, i) => i & 0xff);
  ch.send({ type: "ping", nonce: 1 });
  ch.send({ type: "op", opId: 1, dir: 0, op: { kind: "write", path: "f", offset: 5, data } });
  ch.send({ type: "ping", nonce: 2 });
  await ch.drained();
  const msgs = decodeAll(s.written);
  assert.deepEqual(msgs.map((m) => m.type), ["ping", "op", "ping"]);
  const op = msgs[1].type === "op" ? msgs[1].op : null;
  assert.ok(op?.kind === "write" && op.offset === 5);
  assert.deepEqual(op.data, data);
  // ping | op (header, data, MAC in one write, flushed at once) | ping
  assert.ok(
    s.written.some((w) => w.length > data.length && w.length < data.length + 200),
    "the op frame alone",
  );
});

Deno.test("message parts: concatenated they are exactly encodeMessage's payload; bulk data is its own part", () => {
  const msgs: Message[] = [
    {
      type: "op",
      opId: 2 ** 40 + 3,
      dir: 2,
      op: { kind: "write", path: "a/é", offset: 2 ** 35 + 1, data: new Uint8Array(9000).fill(3) },
    },
    { type: "op", opId: 4, dir: 0, op: { kind: "write", path: "x", offset: 0, data: new Uint8Array(0) } },
    { type: "op", opId: 5, dir: 1, op: { kind: "mkdir", path: "d", mode: 0o755, uid: 1, gid: 2 } },
    { type: "ack", opId: 77 },
    {
      type: "reiReply",
      reqId: 9,
      errno: 0,
      entry: {
        name: "f",
        type: "file",
        mode: 0o100644,
        uid: 1,
        gid: 2,
        size: 70000,
        mtimeSec: 5,
        mtimeNsec: 6,
        rdev: 0,
      },
      data: new Uint8Array(70000).fill(4),
    },
  ];
  for (const m of msgs) {
    const { type, parts, length } = encodeMessageParts(m);
    const joined = new Uint8Array(length);
    let o = 0;
    for (const p of parts) (joined.set(p, o), o += p.length);
    assert.equal(o, length);
    assert.deepEqual({ type, payload: joined }, encodeMessage(m));
    if (m.type === "reiReply") {
      assert.equal(parts.at(-1), m.data, "a read reply's data is sent from where it is");
    }
  }
});

Deno.test("payload pool: a recycled buffer is reused for the next large payload, small ones are not pooled", () => {
  const pool = new PayloadPool(4 << 20, 64 * 1024);
  const a = pool.take(300_000);
  assert.equal(a.length, 300_000);
  pool.recycle(a);
  const b = pool.take(290_000);
  assert.equal(b.buffer, a.buffer, "same size class (64 KiB steps): reused");
  assert.equal(b.buffer.byteLength, 5 * 65536, "rounded to 64 KiB, not to a power of two");
  const small = pool.take(100);
  pool.recycle(small);
  assert.notEqual(pool.take(100).buffer, small.buffer);
  const given = Array.from({ length: 5 }, () => new Uint8Array(1 << 20));
  for (const g of given) pool.recycle(g); // the fifth is over the 4 MiB cap: dropped
  const taken = Array.from({ length: 5 }, () => pool.take(1 << 20).buffer);
  assert.equal(taken.filter((t) => given.some((g) => g.buffer === t)).length, 4);
});

Deno.test("frame channel: once onWritten is called the data buffer may change without changing what the peer gets", async () => {
  for (const size of [100, 300 * 1024, 3 << 20]) {
    const s = recordingStream();
    const ch = new FrameChannel(s, KEY, KEY);
    const data = new Uint8Array(size).fill(7);
    let called = 0;
    const entry = {
      name: "f",
      type: "file" as const,
      mode: 0o100644,
      uid: 0,
      gid: 0,
      size,
      mtimeSec: 0,
      mtimeNsec: 0,
      rdev: 0,
    };
    ch.send({ type: "reiReply", reqId: 1, errno: 0, entry, data }, () => {
      called++;
      data.fill(9); // the next read reusing the buffer
    });
    ch.send({ type: "ping", nonce: 3 });
    await ch.drained();
    assert.equal(called, 1, `${size} bytes`);
    const [reply] = decodeAll(s.written);
    assert.ok(reply.type === "reiReply" && reply.data !== undefined);
    assert.ok(
      reply.data.length === size && reply.data.every((b) => b === 7),
      `${size} bytes sent as they were`,
    );
  }
});

/** Two channels over an in-memory pipe that delivers at most `chunk` bytes per read. */
function pipePair(chunk: number): [ByteStream, ByteStream] {
  const make = (inbox: Uint8Array[], outbox: Uint8Array[], wake: { fn: (() => void) | null }[]) => ({
    read: async (p: Uint8Array) => {
      while (inbox.length === 0) await new Promise<void>((r) => (wake[0].fn = r));
      const head = inbox[0];
      const n = Math.min(p.length, head.length, chunk);
      p.set(head.subarray(0, n));
      if (n === head.length) inbox.shift();
      else inbox[0] = head.subarray(n);
      return n;
    },
    write: (p: Uint8Array) => {
      outbox.push(p.slice());
      const w = wake[1];
      if (w.fn !== null) (w.fn(), w.fn = null);
      return Promise.resolve(p.length);
    },
    close: () => {},
  });
  const aToB: Uint8Array[] = [], bToA: Uint8Array[] = [];
  const wakeA = { fn: null as (() => void) | null }, wakeB = { fn: null as (() => void) | null };
  return [make(bToA, aToB, [wakeA, wakeB]), make(aToB, bToA, [wakeB, wakeA])];
}

Deno.test("frame channel: session frames (Poly1305) with large payloads arrive intact, read in place", async () => {
  const c2s = poly1305FrameAuth(new Uint8Array(32).fill(1)),
    s2c = poly1305FrameAuth(new Uint8Array(32).fill(2));
  for (const chunk of [1000, 65536, 1 << 20]) {
    const [a, b] = pipePair(chunk);
    const client = new FrameChannel(a, c2s, s2c), server = new FrameChannel(b, s2c, c2s);
    const sizes = [1, 70_000, 1 << 20, 5, 256 * 1024];
    sizes.forEach((n, i) =>
      client.send({
        type: "op",
        opId: i + 1,
        dir: 0,
        op: { kind: "write", path: "f", offset: 0, data: new Uint8Array(n).fill(i + 1) },
      })
    );
    for (let i = 0; i < sizes.length; i++) {
      const m = await server.receive();
      assert.ok(m?.type === "op" && m.op.kind === "write", `op ${i + 1}`);
      const d = m.op.data;
      assert.ok(
        d.length === sizes[i] && d.every((v) => v === i + 1),
        `op ${i + 1} intact (reads of ${chunk})`,
      );
    }
  }
});
