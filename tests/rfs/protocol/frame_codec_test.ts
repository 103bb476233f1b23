// The frame codec refuses every tampered, replayed, reordered or truncated frame, under both tag
// algorithms (HMAC-SHA256 for the handshake frames, Poly1305 for session frames), and receives large
// payloads in place.
import assert from "node:assert/strict";
import {
  DIRECT_PAYLOAD_BYTES,
  FRAME_HEADER_BYTES,
  FRAME_MAC_BYTES,
  FrameDecoder,
  FrameError,
  type FrameErrorCode,
  PayloadPool,
  sealFrame,
  sealFrameParts,
} from "../../../src/rfs/protocol/frame_codec.ts";
import { type FrameAuth, hmacFrameAuth, poly1305FrameAuth } from "../../../src/rfs/protocol/frame_auth.ts";

const KEY = new Uint8Array(32).fill(7);
const OTHER_KEY = new Uint8Array(32).fill(8);

const algorithms: { name: string; auth: (k: Uint8Array) => FrameAuth; tagBytes: number }[] = [
  { name: "hmac-sha256", auth: hmacFrameAuth, tagBytes: 32 },
  { name: "poly1305", auth: poly1305FrameAuth, tagBytes: 16 },
];

const tamper = (b: Uint8Array, at: number, v: number) => {
  const c = b.slice();
  c[at] = v;
  return c;
};

function expectError(code: FrameErrorCode, message: RegExp, run: () => unknown) {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof FrameError, `FrameError expected, got ${e}`);
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
}

for (const alg of algorithms) {
  const frame = (seq: number, payload = new Uint8Array([1, 2, 3])) =>
    sealFrame(alg.auth(KEY), { type: 5, seq, payload });

  const decodeAll = (bytes: Uint8Array[], opts: { end?: boolean; max?: number } = {}): number[] => {
    const d = new FrameDecoder(alg.auth(KEY), 0, opts.max);
    const seqs: number[] = [];
    for (const b of bytes) {
      d.push(b);
      for (let f = d.next(); f !== null; f = d.next()) seqs.push(f.seq);
    }
    if (opts.end) d.finish();
    return seqs;
  };

  Deno.test(`frame codec (${alg.name}): frames split at every byte boundary decode in order with their payloads`, () => {
    const all = new Uint8Array([...frame(0), ...frame(1, new Uint8Array(1000).fill(9)), ...frame(2)]);
    for (const cut of [1, 7, FRAME_HEADER_BYTES, 100, all.length - 1]) {
      assert.deepEqual(decodeAll([all.subarray(0, cut), all.subarray(cut)], { end: true }), [0, 1, 2]);
    }
    const d = new FrameDecoder(alg.auth(KEY));
    d.push(frame(0, new Uint8Array([42, 43])));
    const f = d.next()!;
    assert.deepEqual([f.type, f.seq, [...f.payload]], [5, 0, [42, 43]]);
  });

  const cases: { name: string; code: FrameErrorCode; message: RegExp; run: () => unknown }[] = [
    {
      name: "a stream that ends inside a frame is truncated",
      code: "truncated",
      message: /closed with 30 bytes of an incomplete frame/,
      run: () => decodeAll([frame(0).subarray(0, 30)], { end: true }),
    },
    {
      name: "a stream that ends inside a large frame's tag is truncated",
      code: "truncated",
      message: /incomplete frame/,
      run: () => {
        const f = frame(0, new Uint8Array(DIRECT_PAYLOAD_BYTES + 5));
        return decodeAll([f.subarray(0, f.length - 1)], { end: true });
      },
    },
    {
      name: "a declared length above the limit is refused before buffering it",
      code: "oversized",
      message: /payload of 2000 bytes declared, the limit is 1024/,
      run: () => decodeAll([frame(0, new Uint8Array(2000)).subarray(0, 40)], { max: 1024 }),
    },
    {
      name: "a flipped payload bit fails the tag",
      code: "bad_mac",
      message: /not signed with this connection's key/,
      run: () => decodeAll([tamper(frame(0), FRAME_HEADER_BYTES + 1, 0xff)]),
    },
    {
      name: "a flipped bit in a large payload fails the tag",
      code: "bad_mac",
      message: /not signed/,
      run: () => decodeAll([tamper(frame(0, new Uint8Array(DIRECT_PAYLOAD_BYTES * 2)), 100_000, 1)]),
    },
    {
      name: "a flipped tag bit fails the tag",
      code: "bad_mac",
      message: /not signed/,
      run: () => decodeAll([tamper(frame(0), FRAME_HEADER_BYTES + 3 + 2, 0x55)]),
    },
    {
      name: "a frame sealed with another key (another direction, another session) fails the tag",
      code: "bad_mac",
      message: /wrong cluster key/,
      run: () => decodeAll([sealFrame(alg.auth(OTHER_KEY), { type: 5, seq: 0, payload: new Uint8Array(3) })]),
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
      name: "two frames swapped are out of order",
      code: "out_of_order",
      message: /sequence 1 received, 0 expected/,
      run: () => decodeAll([frame(1), frame(0)]),
    },
    {
      name: "a peer of the previous version is named as such",
      code: "bad_version",
      message: /protocol version 1 received, this node speaks 2 \(the peer runs an older release/,
      run: () => decodeAll([tamper(frame(0), 4, 1)]),
    },
    {
      name: "foreign traffic is refused from its first bytes",
      code: "bad_magic",
      message: /does not speak the SafeKit replication protocol/,
      run: () => decodeAll([new TextEncoder().encode("GET /")]),
    },
    {
      name: "a changed sequence number fails the tag (it is signed, and is the nonce)",
      code: "bad_mac",
      message: /not signed/,
      run: () => decodeAll([tamper(frame(0), 15, 1)]),
    },
    {
      name: "a changed type byte fails the tag",
      code: "bad_mac",
      message: /not signed/,
      run: () => decodeAll([tamper(frame(0), 5, 6)]),
    },
    {
      name: "a sequence number above 2^53 is refused",
      code: "out_of_order",
      message: /received, 0 expected/,
      run: () => decodeAll([tamper(frame(0), 8, 0xff)]),
    },
  ];

  for (const c of cases) {
    Deno.test(`frame codec (${alg.name}): ${c.name}`, () => expectError(c.code, c.message, c.run));
  }

  Deno.test(`frame codec (${alg.name}): after an error the decoder refuses everything`, () => {
    const d = new FrameDecoder(alg.auth(KEY));
    d.push(tamper(frame(0), FRAME_HEADER_BYTES, 0));
    assert.throws(() => d.next(), FrameError);
    d.push(frame(1));
    assert.throws(() => d.next(), /bad_mac/);
  });

  Deno.test(`frame codec (${alg.name}): the tag takes ${alg.tagBytes} bytes; pieces seal like their concatenation`, () => {
    assert.equal(frame(0).length, FRAME_HEADER_BYTES + 3 + alg.tagBytes);
    assert.ok(alg.tagBytes <= FRAME_MAC_BYTES);
    const a = new Uint8Array(37).fill(1), b = new Uint8Array(5000).fill(2);
    const pieces = sealFrameParts(alg.auth(KEY), 5, 9, [a, b]);
    const joined = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
    pieces.reduce((o, p) => (joined.set(p, o), o + p.length), 0);
    assert.deepEqual(
      joined,
      sealFrame(alg.auth(KEY), { type: 5, seq: 9, payload: new Uint8Array([...a, ...b]) }),
    );
  });

  Deno.test(`frame codec (${alg.name}): a large frame is received in place, fed by pushes or by direct reads`, () => {
    const payload = new Uint8Array(DIRECT_PAYLOAD_BYTES * 3 + 11).map((_, i) => (i * 31) & 0xff);
    const stream = new Uint8Array([...frame(0), ...frame(1, payload), ...frame(2)]);
    for (const chunk of [1000, 4096, 65536, 200_000, stream.length]) {
      for (const direct of [false, true]) {
        const pool = new PayloadPool();
        const d = new FrameDecoder(alg.auth(KEY), 0, undefined, pool);
        const got: { seq: number; len: number; ok: boolean }[] = [];
        let at = 0;
        while (at < stream.length) {
          const target = direct ? d.directTarget() : null;
          if (target !== null) {
            const n = Math.min(chunk, target.length, stream.length - at);
            target.set(stream.subarray(at, at + n));
            d.directReceived(n);
            at += n;
          } else {
            d.push(stream.subarray(at, Math.min(stream.length, at + chunk)));
            at += chunk;
          }
          for (let f = d.next(); f !== null; f = d.next()) {
            got.push({
              seq: f.seq,
              len: f.payload.length,
              ok: f.seq !== 1 || f.payload.every((v, i) => v === payload[i]),
            });
          }
        }
        d.finish();
        assert.deepEqual(
          got,
          [{ seq: 0, len: 3, ok: true }, { seq: 1, len: payload.length, ok: true }, {
            seq: 2,
            len: 3,
            ok: true,
          }],
          `chunks of ${chunk}, direct ${direct}`,
        );
        assert.equal(d.buffered, 0);
      }
    }
  });
}

Deno.test("frame codec: a decoder switched to the session key reads the next frame with its tag size", () => {
  const hk = hmacFrameAuth(KEY), sk = poly1305FrameAuth(OTHER_KEY);
  const bytes = new Uint8Array([
    ...sealFrame(hk, { type: 1, seq: 0, payload: new Uint8Array([1]) }),
    ...sealFrame(sk, { type: 3, seq: 1, payload: new Uint8Array(DIRECT_PAYLOAD_BYTES) }),
  ]);
  const d = new FrameDecoder(KEY);
  d.push(bytes);
  assert.equal(d.next()!.type, 1);
  d.rekey(sk);
  assert.equal(d.next()!.payload.length, DIRECT_PAYLOAD_BYTES);
});

Deno.test("frame codec: a raw key means HMAC-SHA256 (the handshake frames)", () => {
  assert.deepEqual(
    sealFrame(KEY, { type: 5, seq: 3, payload: new Uint8Array(9) }),
    sealFrame(hmacFrameAuth(KEY), { type: 5, seq: 3, payload: new Uint8Array(9) }),
  );
});
