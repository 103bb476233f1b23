// The ChaCha20-Poly1305 (RFC 8439) tag over additional data only (empty plaintext), in plain TypeScript.
//
// Why: node:crypto's createCipheriv costs 11-13 µs per call in Deno 2.9 whatever the size (the polyfill's
// object setup), which dominates the tag of a small replication frame. This computes the same 16 bytes
// (checked against node:crypto in the tests) in a few µs for small frames; node:crypto stays faster per byte
// for large ones (see scripts/bench/frame_tag.ts for the crossover).
//
// Poly1305 uses six 22-bit limbs (the top one 20 bits) held in doubles: 36 multiplications per block, each
// column sum exact below 2^53, carries by Math.floor. Measured against the poly1305-donna-16 / tweetnacl
// layout (ten 13-bit limbs, 100 multiplications, sums below 2^32): 4.3 against 5.6 ms per MiB in Deno 2.9
// (V8 does the products above 2^31 in floating point either way). 26-bit limbs would overflow 53 bits.
// Message words are read byte by byte: a DataView reads faster per block (3.5 ms per MiB) but creating one
// per part costs more than it saves on the small frames this is for.
// State lives in module-level scratch arrays (no allocation per tag beyond the result): the functions are
// synchronous and not re-entrant, which JavaScript's single thread makes safe.

/** Poly1305 accumulator h and key r in 22-bit limbs, and the final addend s as 32-bit words. */
const H = new Float64Array(6);
const R = new Float64Array(6);
const S = new Uint32Array(4);
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

const TWO22 = 0x400000, INV22 = 1 / 0x400000, TWO20 = 0x100000, INV20 = 1 / 0x100000;

/**
 * Starts Poly1305 with r from the key's first four little-endian words (clamped here), s from the next four,
 * and h = 0. Limb i of r and h holds bits 22i.. of the number (limb 5: bits 110-129).
 */
function polyInit(k0: number, k1: number, k2: number, k3: number): void {
  k0 &= 0x0fffffff, k1 &= 0x0ffffffc, k2 &= 0x0ffffffc, k3 &= 0x0ffffffc;
  R[0] = k0 & 0x3fffff;
  R[1] = ((k0 >>> 22) | (k1 << 10)) & 0x3fffff;
  R[2] = ((k1 >>> 12) | (k2 << 20)) & 0x3fffff;
  R[3] = (k2 >>> 2) & 0x3fffff;
  R[4] = ((k2 >>> 24) | (k3 << 8)) & 0x3fffff;
  R[5] = k3 >>> 14;
  H.fill(0);
}

/** Poly1305 key from ChaCha20 words 0..7 (the first 32 bytes of the block, RFC 8439 §2.6). */
function polyInitFromWords(): void {
  const w = WORDS;
  polyInit(w[0], w[1], w[2], w[3]);
  S[0] = w[4], S[1] = w[5], S[2] = w[6], S[3] = w[7];
}

/**
 * Absorbs the 16-byte blocks m[pos, end) ((end - pos) a multiple of 16). `hibit` is 1 << 18 (the 2^128 bit
 * in limb 5) for full blocks and 0 for a final partial block that was padded with 0x01 by the caller.
 *
 * Bounds: h limbs stay below 2^23 (limb 5 below 2^21) and r limbs below 2^22 (limb 5 below 2^18), so each
 * of the six products in a column is below 2^45, or 2^49.4 with the factor 20, and a column sums to less
 * than 2^51.4: exact in a double (53 bits), checked against a BigInt reference in the tests.
 */
function polyBlocks(m: Uint8Array, pos: number, end: number, hibit: number): void {
  let h0 = H[0], h1 = H[1], h2 = H[2], h3 = H[3], h4 = H[4], h5 = H[5];
  const r0 = R[0], r1 = R[1], r2 = R[2], r3 = R[3], r4 = R[4], r5 = R[5];
  // 2^132 = 4 * 2^130 = 20 (mod 2^130 - 5): a product whose limbs add up to 6 or more wraps with a factor 20.
  const t1 = 20 * r1, t2 = 20 * r2, t3 = 20 * r3, t4 = 20 * r4, t5 = 20 * r5;
  while (pos < end) {
    const w0 = m[pos] | m[pos + 1] << 8 | m[pos + 2] << 16 | m[pos + 3] << 24;
    const w1 = m[pos + 4] | m[pos + 5] << 8 | m[pos + 6] << 16 | m[pos + 7] << 24;
    const w2 = m[pos + 8] | m[pos + 9] << 8 | m[pos + 10] << 16 | m[pos + 11] << 24;
    const w3 = m[pos + 12] | m[pos + 13] << 8 | m[pos + 14] << 16 | m[pos + 15] << 24;
    h0 += w0 & 0x3fffff;
    h1 += ((w0 >>> 22) | (w1 << 10)) & 0x3fffff;
    h2 += ((w1 >>> 12) | (w2 << 20)) & 0x3fffff;
    h3 += (w2 >>> 2) & 0x3fffff;
    h4 += ((w2 >>> 24) | (w3 << 8)) & 0x3fffff;
    h5 += (w3 >>> 14) | hibit;

    // h *= r (mod 2^130 - 5).
    const d0 = h0 * r0 + h1 * t5 + h2 * t4 + h3 * t3 + h4 * t2 + h5 * t1;
    let d1 = h0 * r1 + h1 * r0 + h2 * t5 + h3 * t4 + h4 * t3 + h5 * t2;
    let d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * t5 + h4 * t4 + h5 * t3;
    let d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * t5 + h5 * t4;
    let d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0 + h5 * t5;
    let d5 = h0 * r5 + h1 * r4 + h2 * r3 + h3 * r2 + h4 * r1 + h5 * r0;

    // Carry (limb 5 at bit 20, i.e. 2^130, which wraps to 5).
    let c = Math.floor(d0 * INV22);
    h0 = d0 - c * TWO22;
    d1 += c, c = Math.floor(d1 * INV22), h1 = d1 - c * TWO22;
    d2 += c, c = Math.floor(d2 * INV22), h2 = d2 - c * TWO22;
    d3 += c, c = Math.floor(d3 * INV22), h3 = d3 - c * TWO22;
    d4 += c, c = Math.floor(d4 * INV22), h4 = d4 - c * TWO22;
    d5 += c, c = Math.floor(d5 * INV20), h5 = d5 - c * TWO20;
    h0 += c * 5, c = Math.floor(h0 * INV22), h0 -= c * TWO22;
    h1 += c;
    pos += 16;
  }
  H[0] = h0, H[1] = h1, H[2] = h2, H[3] = h3, H[4] = h4, H[5] = h5;
}

/** Fully reduces h modulo 2^130 - 5, adds s and writes the low 128 bits (little-endian) into `out`. */
function polyFinish(out: Uint8Array): Uint8Array {
  // Two carry passes leave every limb canonical: the first wrap adds a few times 5 to h0, and a carry that
  // ripples out of limb 5 again leaves the lower limbs near zero, so the second wrap stops in limb 0.
  const h = H;
  for (let pass = 0; pass < 2; pass++) {
    let c = 0;
    for (let i = 0; i < 5; i++) {
      const v = h[i] + c;
      c = Math.floor(v * INV22);
      h[i] = v - c * TWO22;
    }
    const v = h[5] + c;
    c = Math.floor(v * INV20);
    h[5] = v - c * TWO20;
    h[0] += c * 5;
  }
  let c = Math.floor(h[0] * INV22);
  h[0] -= c * TWO22;
  h[1] += c;
  const h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4], h5 = h[5];

  // g = h + 5 - 2^130: when that carries out of bit 130, h >= p and g is the reduced value.
  let g0 = h0 + 5;
  c = g0 >>> 22, g0 &= 0x3fffff;
  let g1 = h1 + c;
  c = g1 >>> 22, g1 &= 0x3fffff;
  let g2 = h2 + c;
  c = g2 >>> 22, g2 &= 0x3fffff;
  let g3 = h3 + c;
  c = g3 >>> 22, g3 &= 0x3fffff;
  let g4 = h4 + c;
  c = g4 >>> 22, g4 &= 0x3fffff;
  let g5 = h5 + c;
  c = g5 >>> 20, g5 &= 0xfffff;
  // Branch-free select: mask is all ones when the carry is 1 (take g), zero otherwise (keep h).
  const mask = -c | 0, keep = ~mask;
  const f0 = (h0 & keep) | (g0 & mask), f1 = (h1 & keep) | (g1 & mask), f2 = (h2 & keep) | (g2 & mask);
  const f3 = (h3 & keep) | (g3 & mask), f4 = (h4 & keep) | (g4 & mask), f5 = (h5 & keep) | (g5 & mask);

  // Repack into 32-bit words and add s (mod 2^128).
  let v = ((f0 | (f1 << 22)) >>> 0) + S[0];
  writeWord(out, 0, v);
  v = (((f1 >>> 10) | (f2 << 12)) >>> 0) + S[1] + (v > 0xffffffff ? 1 : 0);
  writeWord(out, 4, v);
  v = (((f2 >>> 20) | (f3 << 2) | (f4 << 24)) >>> 0) + S[2] + (v > 0xffffffff ? 1 : 0);
  writeWord(out, 8, v);
  v = (((f4 >>> 8) | (f5 << 14)) >>> 0) + S[3] + (v > 0xffffffff ? 1 : 0);
  writeWord(out, 12, v);
  return out;
}

function writeWord(out: Uint8Array, at: number, v: number): void {
  out[at] = v, out[at + 1] = v >>> 8, out[at + 2] = v >>> 16, out[at + 3] = v >>> 24;
}

/** Poly1305 (RFC 8439 §2.5) of `msg` under a 32-byte one-time key: exported for the RFC vector. */
export function poly1305(key: Uint8Array, msg: Uint8Array, out: Uint8Array = new Uint8Array(16)): Uint8Array {
  if (key.length !== 32) throw new RangeError(`a Poly1305 key is 32 bytes, got ${key.length}`);
  const word = (i: number) => key[i] | key[i + 1] << 8 | key[i + 2] << 16 | key[i + 3] << 24;
  polyInit(word(0), word(4), word(8), word(12));
  for (let i = 0; i < 4; i++) S[i] = word(16 + 4 * i);
  const full = msg.length & ~15;
  polyBlocks(msg, 0, full, 1 << 18);
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
      polyBlocks(block, 0, 16, 1 << 18);
      buffered = 0;
    }
    const full = pos + ((len - pos) & ~15);
    if (full > pos) polyBlocks(part, pos, full, 1 << 18);
    for (let i = full; i < len; i++) block[buffered++] = part[i];
  }
  if (buffered > 0) {
    // The AAD is zero-padded to a multiple of 16 (RFC 8439 §2.8): a full block, not Poly1305's 0x01 padding.
    block.fill(0, buffered);
    polyBlocks(block, 0, 16, 1 << 18);
  }
  // le64(aad length) || le64(ciphertext length = 0).
  block.fill(0);
  const lo = total >>> 0, hi = Math.floor(total / 0x100000000);
  block[0] = lo, block[1] = lo >>> 8, block[2] = lo >>> 16, block[3] = lo >>> 24;
  block[4] = hi, block[5] = hi >>> 8, block[6] = hi >>> 16, block[7] = hi >>> 24;
  polyBlocks(block, 0, 16, 1 << 18);
  return polyFinish(out);
}

/** Compares two 16-byte tags in time independent of where they differ; false for any other length. */
export function constantTimeEqual16(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== 16 || b.length !== 16) return false;
  let d = 0;
  for (let i = 0; i < 16; i++) d |= a[i] ^ b[i];
  return d === 0;
}
