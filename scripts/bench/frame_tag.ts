// Micro-benchmark: µs per ChaCha20-Poly1305 AAD-only tag, pure TypeScript (chachaPolyAadTag) against the
// node:crypto path of src/rfs/protocol/frame_auth.ts, for frame sizes from 64 B to 64 KiB, and the size from
// which node:crypto is faster; and the system's OpenSSL (openssl_aad_tag.ts, used above JS_TAG_MAX_BYTES
// when it loads). Each frame is two parts (a 24-byte header, then the payload), like a frame.
// "js" returns a new Uint8Array per tag; "js+out" writes into a reused one (as verify can): allocating a
// 16-byte Uint8Array costs about 0.6 µs in Deno 2.9, a large share of a small frame's tag.
// Usage: deno run -A scripts/bench/frame_tag.ts   (a few seconds; medians of 5 rounds)
import { createCipheriv } from "node:crypto";
import { chachaPolyAadTag } from "../../src/rfs/protocol/chacha_poly_tag.ts";
import { openSslAadTagger, openSslUnavailableReason } from "../../src/rfs/protocol/openssl_aad_tag.ts";

const SIZES = [64, 256, 1024, 4096, 16384, 65536, 1 << 20];
const ROUNDS = 5;
const ROUND_MS = 40;
const HEADER = 24;

/** The node:crypto path, as in frame_auth.ts's Poly1305FrameAuth.tag. */
function nativeTag(key: Uint8Array, nonce: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
  const c = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
  for (const p of parts) c.setAAD(p, { plaintextLength: 0 });
  c.final();
  return new Uint8Array(c.getAuthTag());
}

type TagFn = (key: Uint8Array, nonce: Uint8Array, parts: readonly Uint8Array[]) => Uint8Array;
const out = new Uint8Array(16);
const PATHS: [string, TagFn][] = [
  ["js", chachaPolyAadTag],
  ["js+out", (key, nonce, parts) => chachaPolyAadTag(key, nonce, parts, out)],
  ["native", nativeTag],
];
const openssl = openSslAadTagger();
if (openssl) PATHS.push(["openssl", (key, nonce, parts) => openssl.tag(key, nonce, parts)]);
else console.log(`no OpenSSL column: ${openSslUnavailableReason}`);

function run(fn: TagFn, key: Uint8Array, nonce: Uint8Array, parts: readonly Uint8Array[], n: number): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    nonce[11] = i; // a fresh nonce per frame, as in a session
    fn(key, nonce, parts);
  }
  return performance.now() - t0;
}

/** Median over ROUNDS of the µs per call, each round about ROUND_MS long. */
function measure(fn: TagFn, key: Uint8Array, nonce: Uint8Array, parts: readonly Uint8Array[]): number {
  let iterations = 1;
  for (;;) {
    const elapsed = run(fn, key, nonce, parts, iterations);
    if (elapsed > ROUND_MS / 4) {
      iterations = Math.max(1, Math.round((iterations * ROUND_MS) / elapsed));
      break;
    }
    iterations *= 2;
  }
  const perCall: number[] = [];
  for (let r = 0; r < ROUNDS; r++) perCall.push((run(fn, key, nonce, parts, iterations) * 1000) / iterations);
  perCall.sort((a, b) => a - b);
  return perCall[Math.floor(ROUNDS / 2)];
}

const key = crypto.getRandomValues(new Uint8Array(32));
const nonce = new Uint8Array(12);
const frames = SIZES.map((size) => {
  const frame = new Uint8Array(size).map(() => Math.random() * 256);
  return [frame.subarray(0, HEADER), frame.subarray(HEADER)];
});
// Same tags, and every path warmed up on every size before any timing (so the JIT has seen them all).
for (const parts of frames) {
  const tags = PATHS.map(([, fn]) => fn(key, nonce, parts).join());
  if (new Set(tags).size !== 1) {
    throw new Error(`the tags differ at ${parts[0].length + parts[1].length} bytes`);
  }
  for (const [, fn] of PATHS) run(fn, key, nonce, parts, 200);
}
const rows = SIZES.map((size, i) => {
  const [js, jsOut, native, ossl] = PATHS.map(([, fn]) => measure(fn, key, nonce, frames[i]));
  return { size, js, jsOut, native, openssl: ossl ?? NaN };
});

console.log(`Deno ${Deno.version.deno}, V8 ${Deno.version.v8}; µs per tag, median of ${ROUNDS} rounds`);
console.log("   bytes        js    js+out    native   openssl   js/native");
for (const { size, js, jsOut, native, openssl } of rows) {
  const cells = [js, jsOut, native, openssl].map((v) => v.toFixed(2).padStart(10)).join("");
  console.log(`${String(size).padStart(8)}${cells}${(js / native).toFixed(2).padStart(12)}`);
}

// Each path as fixed cost + cost per byte (a line through the smallest and largest sizes).
const first = rows[0], last = rows[rows.length - 1];
for (const name of ["js", "jsOut", "native", "openssl"] as const) {
  const perByte = (last[name] - first[name]) / (last.size - first.size);
  const fixed = first[name] - perByte * first.size;
  console.log(`${name}: ${fixed.toFixed(2)} µs + ${(perByte * 1024 * 1024 / 1000).toFixed(2)} ms/MiB`);
}
// The crossover: between the last size where js is faster and the next one, interpolated on the difference.
for (const name of ["js", "jsOut"] as const) {
  const i = rows.findIndex((r) => r.native < r[name]);
  if (i <= 0) {
    console.log(`${name}: native is ${i === 0 ? "faster at every size" : "never faster"}`);
    continue;
  }
  const a = rows[i - 1], b = rows[i];
  const da = a[name] - a.native, db = b[name] - b.native;
  const at = a.size + ((b.size - a.size) * -da) / (db - da);
  console.log(`${name}: native faster from about ${Math.round(at)} bytes (measured: ${b.size})`);
}
