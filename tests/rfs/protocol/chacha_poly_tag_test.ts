import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import {
  chacha20Block,
  chachaPolyAadTag,
  constantTimeEqual16,
  poly1305,
} from "../../../src/rfs/protocol/chacha_poly_tag.ts";

function hex(s: string): Uint8Array {
  const clean = s.replace(/[\s:]/g, "");
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}

function nodeTag(key: Uint8Array, nonce: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
  const c = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
  for (const p of parts) c.setAAD(p, { plaintextLength: 0 });
  c.final();
  return new Uint8Array(c.getAuthTag());
}

/** mulberry32: a seeded PRNG so that a failing case can be reproduced from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(rand: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (rand() * 256) | 0;
  return out;
}

/** Cuts `data` into `count` parts at random places (parts may be empty). */
function randomSplit(rand: () => number, data: Uint8Array, count: number): Uint8Array[] {
  const cuts = Array.from({ length: count - 1 }, () => Math.floor(rand() * (data.length + 1)));
  cuts.sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const to of [...cuts, data.length]) {
    parts.push(data.subarray(from, to));
    from = to;
  }
  return parts;
}

Deno.test("poly1305 matches the RFC 8439 §2.5.2 vector", () => {
  const key = hex(
    "85:d6:be:78:57:55:6d:33:7f:44:52:fe:42:d5:06:a8:01:03:80:8a:fb:0d:b2:fd:4a:bf:f6:af:41:49:f5:1b",
  );
  const msg = new TextEncoder().encode("Cryptographic Forum Research Group");
  assert.deepEqual(poly1305(key, msg), hex("a8:06:1d:c1:30:51:36:c6:c2:2b:8b:af:0c:01:27:a9"));
});

Deno.test("poly1305 reduces an accumulator at or above 2^130 - 5 (RFC 8439 A.3 vectors 6 and 8)", () => {
  // #6: r = 2, s = 0, m = 2^128 - 1 twice: h ends at exactly 2^130 - 5 + 1 before the final reduction.
  const key6 = hex("02" + "00".repeat(31));
  assert.deepEqual(poly1305(key6, hex("ff".repeat(16))), hex("03" + "00".repeat(15)));
  // #8: r = 1, s = 0: the sum wraps to exactly 0 modulo p.
  const key8 = hex("01" + "00".repeat(31));
  const msg8 = hex("ff".repeat(16) + "fbfefefefefefefefefefefefefefefe" + "01010101010101010101010101010101");
  assert.deepEqual(poly1305(key8, msg8), new Uint8Array(16));
});

/** Poly1305 straight from the definition, in BigInt: the reference for the limb arithmetic. */
function bigPoly1305(key: Uint8Array, msg: Uint8Array): Uint8Array {
  const le = (b: Uint8Array) => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n);
  const p = (1n << 130n) - 5n;
  const r = le(key.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  const s = le(key.subarray(16, 32));
  let acc = 0n;
  for (let i = 0; i < msg.length; i += 16) {
    const block = msg.subarray(i, i + 16);
    acc = ((acc + le(block) + (1n << BigInt(8 * block.length))) * r) % p;
  }
  let t = (acc + s) & ((1n << 128n) - 1n);
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++, t >>= 8n) out[i] = Number(t & 0xffn);
  return out;
}

Deno.test("poly1305 equals a BigInt reference at the limb bounds (largest r, all-ones blocks) and at random", () => {
  const rand = prng(11);
  const keys = [
    hex("ff".repeat(32)),
    hex("ff".repeat(16) + "00".repeat(16)),
    hex("00".repeat(16) + "ff".repeat(16)),
  ];
  for (let i = 0; i < 30; i++) keys.push(randomBytes(rand, 32));
  const messages = [hex("ff".repeat(16 * 64)), hex("ff".repeat(16 * 64 + 15)), new Uint8Array(33)];
  for (let i = 0; i < 30; i++) messages.push(randomBytes(rand, Math.floor(rand() * 600)));
  for (const [k, key] of keys.entries()) {
    for (const [m, msg] of messages.entries()) {
      assert.deepEqual(poly1305(key, msg), bigPoly1305(key, msg), `key ${k}, message ${m}`);
    }
  }
});

Deno.test("chacha20Block matches the RFC 8439 §2.3.2 block vector", () => {
  const key = hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  const nonce = hex("000000090000004a00000000");
  const expected = hex(
    "10 f1 e7 e4 d1 3b 59 15 50 0f dd 1f a3 20 71 c4 c7 d1 f4 c7 33 c0 68 03 04 22 aa 9a c3 d4 6c 4e" +
      "d2 82 64 46 07 9f aa 09 14 c2 d7 05 d9 8b 02 a2 b5 12 9c d1 de 16 4e b9 cb d0 83 e8 a2 50 3c 4e",
  );
  assert.deepEqual(chacha20Block(key, 1, nonce), expected);
});

Deno.test("the one-time Poly1305 key is the first 32 bytes of block 0 (RFC 8439 §2.6.2)", () => {
  const key = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  const nonce = hex("000000000001020304050607");
  const expected = hex("8ad5a08b905f81cc815040274ab29471a833b637e3fd0da508dbb8e2fdd1a646");
  assert.deepEqual(chacha20Block(key, 0, nonce).subarray(0, 32), expected);
});

Deno.test("chachaPolyAadTag equals node:crypto for every AAD length 0..300 in one part", () => {
  const rand = prng(1);
  const key = randomBytes(rand, 32), nonce = randomBytes(rand, 12);
  const data = randomBytes(rand, 300);
  for (let n = 0; n <= 300; n++) {
    const aad = data.subarray(0, n);
    assert.deepEqual(chachaPolyAadTag(key, nonce, [aad]), nodeTag(key, nonce, [aad]), `length ${n}`);
  }
  assert.deepEqual(chachaPolyAadTag(key, nonce, []), nodeTag(key, nonce, []), "no parts at all");
});

Deno.test("chachaPolyAadTag equals node:crypto for random keys, lengths up to 70,000 and 1-5 parts", () => {
  for (let seed = 1; seed <= 200; seed++) {
    const rand = prng(seed);
    const key = randomBytes(rand, 32), nonce = randomBytes(rand, 12);
    // Mostly small frames, with a share of large ones.
    const n = rand() < 0.8 ? Math.floor(rand() * 5000) : Math.floor(rand() * 70_001);
    const data = randomBytes(rand, n);
    const parts = randomSplit(rand, data, 1 + Math.floor(rand() * 5));
    const expected = nodeTag(key, nonce, [data]);
    assert.deepEqual(chachaPolyAadTag(key, nonce, parts), expected, `seed ${seed}, length ${n}`);
    assert.deepEqual(nodeTag(key, nonce, parts), expected, `node's own split, seed ${seed}`);
  }
});

Deno.test("chachaPolyAadTag writes into the given buffer and leaves no state behind between calls", () => {
  const rand = prng(7);
  const key = randomBytes(rand, 32), nonce = randomBytes(rand, 12);
  const a = randomBytes(rand, 37), b = randomBytes(rand, 1000);
  const out = new Uint8Array(16);
  const tagA = chachaPolyAadTag(key, nonce, [a], out);
  assert.equal(tagA, out);
  chachaPolyAadTag(key, nonce, [b]);
  assert.deepEqual(chachaPolyAadTag(key, nonce, [a]), nodeTag(key, nonce, [a]));
});

Deno.test("chachaPolyAadTag refuses a key or nonce of the wrong size", () => {
  assert.throws(() => chachaPolyAadTag(new Uint8Array(31), new Uint8Array(12), []), RangeError);
  assert.throws(() => chachaPolyAadTag(new Uint8Array(32), new Uint8Array(8), []), RangeError);
});

Deno.test("constantTimeEqual16 accepts the right tag and refuses a wrong one or a wrong length", () => {
  const rand = prng(3);
  const key = randomBytes(rand, 32), nonce = randomBytes(rand, 12);
  const tag = chachaPolyAadTag(key, nonce, [randomBytes(rand, 100)]);
  assert.equal(constantTimeEqual16(tag, tag.slice()), true);
  for (let i = 0; i < 16; i++) {
    const wrong = tag.slice();
    wrong[i] ^= 1 << (i % 8);
    assert.equal(constantTimeEqual16(tag, wrong), false, `byte ${i} flipped`);
  }
  assert.equal(constantTimeEqual16(tag, tag.subarray(0, 15)), false);
  assert.equal(constantTimeEqual16(tag.subarray(0, 15), tag.subarray(0, 15)), false);
});
