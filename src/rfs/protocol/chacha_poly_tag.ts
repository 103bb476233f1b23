// The ChaCha20-Poly1305 (RFC 8439) tag over additional data only (empty plaintext), in plain TypeScript.
//
// Why: node:crypto's createCipheriv costs 11-13 µs per call in Deno 2.9 whatever the size (the polyfill's
// object setup), which dominates the tag of a small replication frame. This computes the same 16 bytes
// (checked against node:crypto in the tests) in a few µs for small frames; node:crypto stays faster per byte
// for large ones (see scripts/bench/frame_tag.ts for the crossover).
//
// Poly1305 uses ten 13-bit limbs held in plain numbers (the poly1305-donna-16 / tweetnacl layout): every
// partial product sum stays below 2^32, so `>>> 13` and `& 0x1fff` are exact and V8 keeps them as small
// integers. 26-bit limbs would be fewer multiplications but their products overflow a double's 53 bits.
// State lives in module-level scratch arrays (no allocation per tag beyond the result): the functions are
// synchronous and not re-entrant, which JavaScript's single thread makes safe.

/** Poly1305 accumulator h and key r in 13-bit limbs, and the final addend s as 16-bit halves. */
const H = new Uint32Array(10);
const R = new Uint32Array(10);
const PAD = new Uint16Array(8);
/** A 16-byte block that straddles parts (or is the zero-padded tail / the lengths block). */
const BLOCK = new Uint8Array(16);
/** The last ChaCha20 block, as 16 little-endian words. */
const WORDS = new Uint32Array(16);

/**
 * ChaCha20 block function (RFC 8439 §2.3) into WORDS: `key` 32 bytes, `nonce` 12 bytes, 32-bit counter.
 * Local variables for the 16 state words keep the 20 rounds in registers.
 */
function chachaBlockWords(key: Uint8Array, counter: number, nonce: Uint8Array): void {
  const j0 = 0x61707865, j1 = 0x3320646e, j2 = 0x79622d32, j3 = 0x6b206574;
  const j4 = key[0] | key[1] << 8 | key[2] << 16 | key[3] << 24;
  const j5 = key[4] | key[5] << 8 | key[6] << 16 | key[7] << 24;
  const j6 = key[8] | key[9] << 8 | key[10] << 16 | key[11] << 24;
  const j7 = key[12] | key[13] << 8 | key[14] << 16 | key[15] << 24;
  const j8 = key[16] | key[17] << 8 | key[18] << 16 | key[19] << 24;
  const j9 = key[20] | key[21] << 8 | key[22] << 16 | key[23] << 24;
  const j10 = key[24] | key[25] << 8 | key[26] << 16 | key[27] << 24;
  const j11 = key[28] | key[29] << 8 | key[30] << 16 | key[31] << 24;
  const j12 = counter | 0;
  const j13 = nonce[0] | nonce[1] << 8 | nonce[2] << 16 | nonce[3] << 24;
  const j14 = nonce[4] | nonce[5] << 8 | nonce[6] << 16 | nonce[7] << 24;
  const j15 = nonce[8] | nonce[9] << 8 | nonce[10] << 16 | nonce[11] << 24;
  let x0 = j0, x1 = j1, x2 = j2, x3 = j3, x4 = j4, x5 = j5, x6 = j6, x7 = j7;
  let x8 = j8, x9 = j9, x10 = j10, x11 = j11, x12 = j12, x13 = j13, x14 = j14, x15 = j15;
  let t: number;
  for (let i = 0; i < 10; i++) {
    // Column round.
    x0 = (x0 + x4) | 0, t = x12 ^ x0, x12 = t << 16 | t >>> 16;
    x8 = (x8 + x12) | 0, t = x4 ^ x8, x4 = t << 12 | t >>> 20;
    x0 = (x0 + x4) | 0, t = x12 ^ x0, x12 = t << 8 | t >>> 24;
    x8 = (x8 + x12) | 0, t = x4 ^ x8, x4 = t << 7 | t >>> 25;
    x1 = (x1 + x5) | 0, t = x13 ^ x1, x13 = t << 16 | t >>> 16;
    x9 = (x9 + x13) | 0, t = x5 ^ x9, x5 = t << 12 | t >>> 20;
    x1 = (x1 + x5) | 0, t = x13 ^ x1, x13 = t << 8 | t >>> 24;
    x9 = (x9 + x13) | 0, t = x5 ^ x9, x5 = t << 7 | t >>> 25;
    x2 = (x2 + x6) | 0, t = x14 ^ x2, x14 = t << 16 | t >>> 16;
    x10 = (x10 + x14) | 0, t = x6 ^ x10, x6 = t << 12 | t >>> 20;
    x2 = (x2 + x6) | 0, t = x14 ^ x2, x14 = t << 8 | t >>> 24;
    x10 = (x10 + x14) | 0, t = x6 ^ x10, x6 = t << 7 | t >>> 25;
    x3 = (x3 + x7) | 0, t = x15 ^ x3, x15 = t << 16 | t >>> 16;
    x11 = (x11 + x15) | 0, t = x7 ^ x11, x7 = t << 12 | t >>> 20;
    x3 = (x3 + x7) | 0, t = x15 ^ x3, x15 = t << 8 | t >>> 24;
    x11 = (x11 + x15) | 0, t = x7 ^ x11, x7 = t << 7 | t >>> 25;
    // Diagonal round.
    x0 = (x0 + x5) | 0, t = x15 ^ x0, x15 = t << 16 | t >>> 16;
    x10 = (x10 + x15) | 0, t = x5 ^ x10, x5 = t << 12 | t >>> 20;
    x0 = (x0 + x5) | 0, t = x15 ^ x0, x15 = t << 8 | t >>> 24;
    x10 = (x10 + x15) | 0, t = x5 ^ x10, x5 = t << 7 | t >>> 25;
    x1 = (x1 + x6) | 0, t = x12 ^ x1, x12 = t << 16 | t >>> 16;
    x11 = (x11 + x12) | 0, t = x6 ^ x11, x6 = t << 12 | t >>> 20;
    x1 = (x1 + x6) | 0, t = x12 ^ x1, x12 = t << 8 | t >>> 24;
    x11 = (x11 + x12) | 0, t = x6 ^ x11, x6 = t << 7 | t >>> 25;
    x2 = (x2 + x7) | 0, t = x13 ^ x2, x13 = t << 16 | t >>> 16;
    x8 = (x8 + x13) | 0, t = x7 ^ x8, x7 = t << 12 | t >>> 20;
    x2 = (x2 + x7) | 0, t = x13 ^ x2, x13 = t << 8 | t >>> 24;
    x8 = (x8 + x13) | 0, t = x7 ^ x8, x7 = t << 7 | t >>> 25;
    x3 = (x3 + x4) | 0, t = x14 ^ x3, x14 = t << 16 | t >>> 16;
    x9 = (x9 + x14) | 0, t = x4 ^ x9, x4 = t << 12 | t >>> 20;
    x3 = (x3 + x4) | 0, t = x14 ^ x3, x14 = t << 8 | t >>> 24;
    x9 = (x9 + x14) | 0, t = x4 ^ x9, x4 = t << 7 | t >>> 25;
  }
  const w = WORDS;
  w[0] = x0 + j0, w[1] = x1 + j1, w[2] = x2 + j2, w[3] = x3 + j3;
  w[4] = x4 + j4, w[5] = x5 + j5, w[6] = x6 + j6, w[7] = x7 + j7;
  w[8] = x8 + j8, w[9] = x9 + j9, w[10] = x10 + j10, w[11] = x11 + j11;
  w[12] = x12 + j12, w[13] = x13 + j13, w[14] = x14 + j14, w[15] = x15 + j15;
}

/** The 64-byte ChaCha20 block (RFC 8439 §2.3): exported for the RFC vectors in the tests. */
export function chacha20Block(key: Uint8Array, counter: number, nonce: Uint8Array): Uint8Array {
  checkKeyNonce(key, nonce);
  chachaBlockWords(key, counter, nonce);
  const out = new Uint8Array(64);
  for (let i = 0; i < 16; i++) {
    const v = WORDS[i];
    out[4 * i] = v, out[4 * i + 1] = v >>> 8, out[4 * i + 2] = v >>> 16, out[4 * i + 3] = v >>> 24;
  }
  return out;
}

/**
 * Starts Poly1305 with r = the 16-bit halves t0..t7 of the key's first 16 bytes (clamped here through the
 * limb masks), s = the halves p0..p7 of the next 16, and h = 0.
 */
function polyInit(
  t0: number,
  t1: number,
  t2: number,
  t3: number,
  t4: number,
  t5: number,
  t6: number,
  t7: number,
): void {
  R[0] = t0 & 0x1fff;
  R[1] = ((t0 >>> 13) | (t1 << 3)) & 0x1fff;
  R[2] = ((t1 >>> 10) | (t2 << 6)) & 0x1f03;
  R[3] = ((t2 >>> 7) | (t3 << 9)) & 0x1fff;
  R[4] = ((t3 >>> 4) | (t4 << 12)) & 0x00ff;
  R[5] = (t4 >>> 1) & 0x1ffe;
  R[6] = ((t4 >>> 14) | (t5 << 2)) & 0x1fff;
  R[7] = ((t5 >>> 11) | (t6 << 5)) & 0x1f81;
  R[8] = ((t6 >>> 8) | (t7 << 8)) & 0x1fff;
  R[9] = (t7 >>> 5) & 0x007f;
  H.fill(0);
}

/** Poly1305 key from ChaCha20 words 0..7 (the first 32 bytes of the block, RFC 8439 §2.6). */
function polyInitFromWords(): void {
  const w = WORDS;
  polyInit(
    w[0] & 0xffff,
    w[0] >>> 16,
    w[1] & 0xffff,
    w[1] >>> 16,
    w[2] & 0xffff,
    w[2] >>> 16,
    w[3] & 0xffff,
    w[3] >>> 16,
  );
  for (let i = 0; i < 4; i++) PAD[2 * i] = w[4 + i], PAD[2 * i + 1] = w[4 + i] >>> 16;
}

/**
 * Absorbs the 16-byte blocks m[pos, end) ((end - pos) a multiple of 16). `hibit` is 1 << 11 (the 2^128 bit
 * in limb 9) for full blocks and 0 for a final partial block that was padded with 0x01 by the caller.
 */
function polyBlocks(m: Uint8Array, pos: number, end: number, hibit: number): void {
  let h0 = H[0], h1 = H[1], h2 = H[2], h3 = H[3], h4 = H[4];
  let h5 = H[5], h6 = H[6], h7 = H[7], h8 = H[8], h9 = H[9];
  const r0 = R[0], r1 = R[1], r2 = R[2], r3 = R[3], r4 = R[4];
  const r5 = R[5], r6 = R[6], r7 = R[7], r8 = R[8], r9 = R[9];
  // 5 * r_i: the wrap-around of 2^130 = 5 (mod 2^130 - 5).
  const s1 = 5 * r1, s2 = 5 * r2, s3 = 5 * r3, s4 = 5 * r4, s5 = 5 * r5;
  const s6 = 5 * r6, s7 = 5 * r7, s8 = 5 * r8, s9 = 5 * r9;
  while (pos < end) {
    const t0 = m[pos] | m[pos + 1] << 8;
    const t1 = m[pos + 2] | m[pos + 3] << 8;
    const t2 = m[pos + 4] | m[pos + 5] << 8;
    const t3 = m[pos + 6] | m[pos + 7] << 8;
    const t4 = m[pos + 8] | m[pos + 9] << 8;
    const t5 = m[pos + 10] | m[pos + 11] << 8;
    const t6 = m[pos + 12] | m[pos + 13] << 8;
    const t7 = m[pos + 14] | m[pos + 15] << 8;
    h0 += t0 & 0x1fff;
    h1 += ((t0 >>> 13) | (t1 << 3)) & 0x1fff;
    h2 += ((t1 >>> 10) | (t2 << 6)) & 0x1fff;
    h3 += ((t2 >>> 7) | (t3 << 9)) & 0x1fff;
    h4 += ((t3 >>> 4) | (t4 << 12)) & 0x1fff;
    h5 += (t4 >>> 1) & 0x1fff;
    h6 += ((t4 >>> 14) | (t5 << 2)) & 0x1fff;
    h7 += ((t5 >>> 11) | (t6 << 5)) & 0x1fff;
    h8 += ((t6 >>> 8) | (t7 << 8)) & 0x1fff;
    h9 += (t7 >>> 5) | hibit;

    // h *= r (mod 2^130 - 5), each limb's sum split in two halves so that it stays below 2^32.
    let c = 0;
    let d0 = h0 * r0 + h1 * s9 + h2 * s8 + h3 * s7 + h4 * s6;
    c = d0 >>> 13, d0 &= 0x1fff;
    d0 += h5 * s5 + h6 * s4 + h7 * s3 + h8 * s2 + h9 * s1;
    c += d0 >>> 13, d0 &= 0x1fff;

    let d1 = c + h0 * r1 + h1 * r0 + h2 * s9 + h3 * s8 + h4 * s7;
    c = d1 >>> 13, d1 &= 0x1fff;
    d1 += h5 * s6 + h6 * s5 + h7 * s4 + h8 * s3 + h9 * s2;
    c += d1 >>> 13, d1 &= 0x1fff;

    let d2 = c + h0 * r2 + h1 * r1 + h2 * r0 + h3 * s9 + h4 * s8;
    c = d2 >>> 13, d2 &= 0x1fff;
    d2 += h5 * s7 + h6 * s6 + h7 * s5 + h8 * s4 + h9 * s3;
    c += d2 >>> 13, d2 &= 0x1fff;

    let d3 = c + h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s9;
    c = d3 >>> 13, d3 &= 0x1fff;
    d3 += h5 * s8 + h6 * s7 + h7 * s6 + h8 * s5 + h9 * s4;
    c += d3 >>> 13, d3 &= 0x1fff;

    let d4 = c + h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0;
    c = d4 >>> 13, d4 &= 0x1fff;
    d4 += h5 * s9 + h6 * s8 + h7 * s7 + h8 * s6 + h9 * s5;
    c += d4 >>> 13, d4 &= 0x1fff;

    let d5 = c + h0 * r5 + h1 * r4 + h2 * r3 + h3 * r2 + h4 * r1;
    c = d5 >>> 13, d5 &= 0x1fff;
    d5 += h5 * r0 + h6 * s9 + h7 * s8 + h8 * s7 + h9 * s6;
    c += d5 >>> 13, d5 &= 0x1fff;

    let d6 = c + h0 * r6 + h1 * r5 + h2 * r4 + h3 * r3 + h4 * r2;
    c = d6 >>> 13, d6 &= 0x1fff;
    d6 += h5 * r1 + h6 * r0 + h7 * s9 + h8 * s8 + h9 * s7;
    c += d6 >>> 13, d6 &= 0x1fff;

    let d7 = c + h0 * r7 + h1 * r6 + h2 * r5 + h3 * r4 + h4 * r3;
    c = d7 >>> 13, d7 &= 0x1fff;
    d7 += h5 * r2 + h6 * r1 + h7 * r0 + h8 * s9 + h9 * s8;
    c += d7 >>> 13, d7 &= 0x1fff;

    let d8 = c + h0 * r8 + h1 * r7 + h2 * r6 + h3 * r5 + h4 * r4;
    c = d8 >>> 13, d8 &= 0x1fff;
    d8 += h5 * r3 + h6 * r2 + h7 * r1 + h8 * r0 + h9 * s9;
    c += d8 >>> 13, d8 &= 0x1fff;

    let d9 = c + h0 * r9 + h1 * r8 + h2 * r7 + h3 * r6 + h4 * r5;
    c = d9 >>> 13, d9 &= 0x1fff;
    d9 += h5 * r4 + h6 * r3 + h7 * r2 + h8 * r1 + h9 * r0;
    c += d9 >>> 13, d9 &= 0x1fff;

    // The carry out of limb 9 is a multiple of 2^130, which is 5 modulo p.
    c = ((c << 2) + c) | 0;
    c = (c + d0) | 0;
    d0 = c & 0x1fff;
    c = c >>> 13;
    d1 += c;

    h0 = d0, h1 = d1, h2 = d2, h3 = d3, h4 = d4, h5 = d5, h6 = d6, h7 = d7, h8 = d8, h9 = d9;
    pos += 16;
  }
  H[0] = h0, H[1] = h1, H[2] = h2, H[3] = h3, H[4] = h4;
  H[5] = h5, H[6] = h6, H[7] = h7, H[8] = h8, H[9] = h9;
}

/** Fully reduces h modulo 2^130 - 5, adds s and writes the low 128 bits (little-endian) into `out`. */
function polyFinish(out: Uint8Array): Uint8Array {
  // Two full carry passes make every limb at most 13 bits: the first wrap adds at most a few times 5 to h0,
  // and a carry that ripples out of limb 9 again leaves the lower limbs near zero, so the second wrap stops.
  // (poly1305-donna-16 stops the second pass at limb 2, which in a rare case leaves limb 2 at 0x2000.)
  const h = H;
  for (let pass = 0; pass < 2; pass++) {
    let c = 0;
    for (let i = 0; i < 10; i++) {
      const v = h[i] + c;
      c = v >>> 13;
      h[i] = v & 0x1fff;
    }
    h[0] += c * 5;
  }
  let c = h[0] >>> 13;
  h[0] &= 0x1fff;
  h[1] += c;
  let h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4];
  let h5 = h[5], h6 = h[6], h7 = h[7], h8 = h[8], h9 = h[9];

  // g = h + 5 - 2^130: if it does not go negative (carry out of limb 9), h >= p and g is the result.
  let g0 = h0 + 5;
  c = g0 >>> 13, g0 &= 0x1fff;
  let g1 = h1 + c;
  c = g1 >>> 13, g1 &= 0x1fff;
  let g2 = h2 + c;
  c = g2 >>> 13, g2 &= 0x1fff;
  let g3 = h3 + c;
  c = g3 >>> 13, g3 &= 0x1fff;
  let g4 = h4 + c;
  c = g4 >>> 13, g4 &= 0x1fff;
  let g5 = h5 + c;
  c = g5 >>> 13, g5 &= 0x1fff;
  let g6 = h6 + c;
  c = g6 >>> 13, g6 &= 0x1fff;
  let g7 = h7 + c;
  c = g7 >>> 13, g7 &= 0x1fff;
  let g8 = h8 + c;
  c = g8 >>> 13, g8 &= 0x1fff;
  let g9 = h9 + c;
  c = g9 >>> 13, g9 &= 0x1fff;
  // Branch-free select: mask is all ones when the carry is 1 (take g), zero otherwise (keep h).
  const mask = -c | 0;
  const keep = ~mask;
  h0 = (h0 & keep) | (g0 & mask), h1 = (h1 & keep) | (g1 & mask), h2 = (h2 & keep) | (g2 & mask);
  h3 = (h3 & keep) | (g3 & mask), h4 = (h4 & keep) | (g4 & mask), h5 = (h5 & keep) | (g5 & mask);
  h6 = (h6 & keep) | (g6 & mask), h7 = (h7 & keep) | (g7 & mask), h8 = (h8 & keep) | (g8 & mask);
  h9 = (h9 & keep) | (g9 & mask);

  // Repack into 16-bit words and add s (mod 2^128).
  const u0 = (h0 | (h1 << 13)) & 0xffff;
  const u1 = ((h1 >>> 3) | (h2 << 10)) & 0xffff;
  const u2 = ((h2 >>> 6) | (h3 << 7)) & 0xffff;
  const u3 = ((h3 >>> 9) | (h4 << 4)) & 0xffff;
  const u4 = ((h4 >>> 12) | (h5 << 1) | (h6 << 14)) & 0xffff;
  const u5 = ((h6 >>> 2) | (h7 << 11)) & 0xffff;
  const u6 = ((h7 >>> 5) | (h8 << 8)) & 0xffff;
  const u7 = ((h8 >>> 8) | (h9 << 5)) & 0xffff;
  let f = u0 + PAD[0];
  out[0] = f, out[1] = f >>> 8;
  f = u1 + PAD[1] + (f >>> 16);
  out[2] = f, out[3] = f >>> 8;
  f = u2 + PAD[2] + (f >>> 16);
  out[4] = f, out[5] = f >>> 8;
  f = u3 + PAD[3] + (f >>> 16);
  out[6] = f, out[7] = f >>> 8;
  f = u4 + PAD[4] + (f >>> 16);
  out[8] = f, out[9] = f >>> 8;
  f = u5 + PAD[5] + (f >>> 16);
  out[10] = f, out[11] = f >>> 8;
  f = u6 + PAD[6] + (f >>> 16);
  out[12] = f, out[13] = f >>> 8;
  f = u7 + PAD[7] + (f >>> 16);
  out[14] = f, out[15] = f >>> 8;
  return out;
}

/** Poly1305 (RFC 8439 §2.5) of `msg` under a 32-byte one-time key: exported for the RFC vector. */
export function poly1305(key: Uint8Array, msg: Uint8Array, out: Uint8Array = new Uint8Array(16)): Uint8Array {
  if (key.length !== 32) throw new RangeError(`a Poly1305 key is 32 bytes, got ${key.length}`);
  const half = (i: number) => key[i] | key[i + 1] << 8;
  polyInit(half(0), half(2), half(4), half(6), half(8), half(10), half(12), half(14));
  for (let i = 0; i < 8; i++) PAD[i] = half(16 + 2 * i);
  const full = msg.length & ~15;
  polyBlocks(msg, 0, full, 1 << 11);
  if (full < msg.length) {
    // The last partial block gets a 0x01 byte after it instead of the 2^128 bit.
    BLOCK.fill(0);
    BLOCK.set(msg.subarray(full));
    BLOCK[msg.length - full] = 1;
    polyBlocks(BLOCK, 0, 16, 0);
  }
  return polyFinish(out);
}

function checkKeyNonce(key: Uint8Array, nonce: Uint8Array): void {
  if (key.length !== 32) throw new RangeError(`a ChaCha20 key is 32 bytes, got ${key.length}`);
  if (nonce.length !== 12) throw new RangeError(`a ChaCha20 nonce is 12 bytes, got ${nonce.length}`);
}

/**
 * The RFC 8439 AEAD tag for additional data = the concatenation of `parts` and an empty plaintext: the same
 * 16 bytes as node:crypto's chacha20-poly1305 with setAAD(part, {plaintextLength: 0}) for each part, then
 * final() and getAuthTag(). The parts are absorbed as a stream (a 16-byte block may straddle parts).
 */
export function chachaPolyAadTag(
  key: Uint8Array,
  nonce: Uint8Array,
  parts: readonly Uint8Array[],
  out: Uint8Array = new Uint8Array(16),
): Uint8Array {
  checkKeyNonce(key, nonce);
  if (out.length < 16) throw new RangeError(`the tag needs 16 bytes, got ${out.length}`);
  chachaBlockWords(key, 0, nonce);
  polyInitFromWords();
  const block = BLOCK;
  let buffered = 0;
  let total = 0;
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p];
    const len = part.length;
    total += len;
    let pos = 0;
    if (buffered > 0) {
      // Complete the block left open by the previous part(s).
      const take = Math.min(16 - buffered, len);
      for (let i = 0; i < take; i++) block[buffered + i] = part[i];
      buffered += take;
      pos = take;
      if (buffered < 16) continue;
      polyBlocks(block, 0, 16, 1 << 11);
      buffered = 0;
    }
    const full = pos + ((len - pos) & ~15);
    if (full > pos) polyBlocks(part, pos, full, 1 << 11);
    for (let i = full; i < len; i++) block[buffered++] = part[i];
  }
  if (buffered > 0) {
    // The AAD is zero-padded to a multiple of 16 (RFC 8439 §2.8): a full block, not Poly1305's 0x01 padding.
    block.fill(0, buffered);
    polyBlocks(block, 0, 16, 1 << 11);
  }
  // le64(aad length) || le64(ciphertext length = 0).
  block.fill(0);
  const lo = total >>> 0, hi = Math.floor(total / 0x100000000);
  block[0] = lo, block[1] = lo >>> 8, block[2] = lo >>> 16, block[3] = lo >>> 24;
  block[4] = hi, block[5] = hi >>> 8, block[6] = hi >>> 16, block[7] = hi >>> 24;
  polyBlocks(block, 0, 16, 1 << 11);
  return polyFinish(out);
}

/** Compares two 16-byte tags in time independent of where they differ; false for any other length. */
export function constantTimeEqual16(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== 16 || b.length !== 16) return false;
  let d = 0;
  for (let i = 0; i < 16; i++) d |= a[i] ^ b[i];
  return d === 0;
}
