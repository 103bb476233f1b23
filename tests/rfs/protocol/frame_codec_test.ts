import assert from "node:assert/strict";
import {
  FRAME_HEADER_BYTES,
  FRAME_MAC_BYTES,
  FrameDecoder,
  FrameError,
  type FrameErrorCode,
  sealFrame,
} from "../../../src/rfs/protocol/frame_codec.ts";

const key = new Uint8Array(32).fill(7);
const otherKey = new Uint8Array(32).fill(8);
const frame = (seq: number, payload = new Uint8Array([1, 2, 3])) => sealFrame(key, { type: 5, seq, payload });

function decodeAll(bytes: Uint8Array[], opts: { end?: boolean; max?: number } = {}): number[] {
  const d = new FrameDecoder(key, 0, opts.max);
  const seqs: number[] = [];
  for (const b of bytes) {
    d.push(b);
    for (let f = d.next(); f !== null; f = d.next()) seqs.push(f.seq);
  }
  if (opts.end) d.finish();
  return seqs;
}

function expectError(code: FrameErrorCode, message: RegExp, run: () => unknown) {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof FrameError, `FrameError expected, got ${e}`);
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
}

Deno.test("frame codec: frames split at every byte boundary decode in order with their payloads", () => {
  const all = new Uint8Array([...frame(0), ...frame(1, new Uint8Array(1000).fill(9)), ...frame(2)]);
  for (const cut of [1, 7, FRAME_HEADER_BYTES, 100, all.length - 1]) {
    assert.deepEqual(decodeAll([all.subarray(0, cut), all.subarray(cut)], { end: true }), [0, 1, 2]);
  }
  const d = new FrameDecoder(key);
  d.push(frame(0, new Uint8Array([42, 43])));
  const f = d.next()!;
  assert.deepEqual([f.type, f.seq, [...f.payload]], [5, 0, [42, 43]]);
});

const tamper = (b: Uint8Array, at: number, v: number) => {
  const c = b.slice();
  c[at] = v;
  return c;
};

const cases: { name: string; code: FrameErrorCode; message: RegExp; run: () => unknown }[] = [
  {
    name: "a stream that ends inside a frame is truncated",
    code: "truncated",
    message: /closed with 30 bytes of an incomplete frame/,
    run: () => decodeAll([frame(0).subarray(0, 30)], { end: true }),
  },
  {
    name: "a declared length above the limit is refused before buffering it",
    code: "oversized",
    message: /payload of 2000 bytes declared, the limit is 1024/,
    run: () =>
      decodeAll([sealFrame(key, { type: 5, seq: 0, payload: new Uint8Array(2000) }).subarray(0, 40)], {
        max: 1024,
      }),
  },
  {
    name: "a flipped payload bit fails the MAC",
    code: "bad_mac",
    message: /not signed with this connection's key/,
    run: () => decodeAll([tamper(frame(0), FRAME_HEADER_BYTES + 1, 0xff)]),
  },
  {
    name: "a frame sealed with another key fails the MAC",
    code: "bad_mac",
    message: /wrong cluster key/,
    run: () => decodeAll([sealFrame(otherKey, { type: 5, seq: 0, payload: new Uint8Array(3) })]),
  },
  {
    name: "a frame sent twice is a replay",
    code: "replayed",
    message: /sequence 0 was already received \(next is 1\)/,
    run: () => decodeAll([frame(0), frame(0)]),
  },
  {
    name: "a missing frame is out of order",
    code: "out_of_order",
    message: /sequence 2 received, 1 expected/,
    run: () => decodeAll([frame(0), frame(2)]),
  },
  {
    name: "another protocol version is named",
    code: "bad_version",
    message: /protocol version 2 received, this node speaks 1/,
    run: () => decodeAll([tamper(frame(0), 4, 2)]),
  },
  {
    name: "foreign traffic is refused from its first bytes",
    code: "bad_magic",
    message: /does not speak the SafeKit replication protocol/,
    run: () => decodeAll([new TextEncoder().encode("GET /")]),
  },
  {
    name: "a changed sequence number fails the MAC (it is signed)",
    code: "bad_mac",
    message: /not signed/,
    run: () => decodeAll([tamper(frame(0), 15, 1)]),
  },
];

for (const c of cases) {
  Deno.test(`frame codec: ${c.name}`, () => expectError(c.code, c.message, c.run));
}

Deno.test("frame codec: after an error the decoder refuses everything (the connection must close)", () => {
  const d = new FrameDecoder(key);
  d.push(tamper(frame(0), FRAME_HEADER_BYTES, 0));
  assert.throws(() => d.next(), FrameError);
  d.push(frame(1));
  assert.throws(() => d.next(), /bad_mac/);
});

Deno.test("frame codec: the MAC covers header and payload and takes 32 bytes", () => {
  assert.equal(frame(0).length, FRAME_HEADER_BYTES + 3 + FRAME_MAC_BYTES);
});
