// Micro-benchmark: µs per ChaCha20-Poly1305 AAD-only tag, pure TypeScript (chachaPolyAadTag) against the
// node:crypto path of src/rfs/protocol/frame_auth.ts, for frame sizes from 64 B to 64 KiB, and the size from
// which node:crypto is faster. Each frame is two parts (a 24-byte header, then the payload), like a frame.
// Usage: deno run -A scripts/bench/frame_tag.ts   (about 10 s; medians of 5 rounds)
import { createCipheriv } from "node:crypto";
import { chachaPolyAadTag } from "../../src/rfs/protocol/chacha_poly_tag.ts";

const SIZES = [64, 256, 1024, 4096, 16384, 65536];
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

/** Median over ROUNDS of the µs per call, each round about ROUND_MS long. */
function measure(fn: TagFn, key: Uint8Array, nonce: Uint8Array, parts: readonly Uint8Array[]): number {
  let iterations = 1;
  // Calibrate (this also warms the JIT up).
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) fn(key, nonce, parts);
    const elapsed = performance.now() - t0;
    if (elapsed > ROUND_MS / 4) {
      iterations = Math.max(1, Math.round((iterations * ROUND_MS) / elapsed));
      break;
    }
    iterations *= 2;
  }
  const perCall: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) {
      nonce[11] = i; // a fresh nonce per frame, as in a session
      fn(key, nonce, parts);
    }
    perCall.push(((performance.now() - t0) * 1000) / iterations);
  }
  perCall.sort((a, b) => a - b);
  return perCall[Math.floor(ROUNDS / 2)];
}

const key = crypto.getRandomValues(new Uint8Array(32));
const nonce = new Uint8Array(12);
const rows: { size: number; js: number; native: number }[] = [];
for (const size of SIZES) {
  const frame = crypto.getRandomValues(new Uint8Array(size));
  const parts = [frame.subarray(0, HEADER), frame.subarray(HEADER)];
  if (chachaPolyAadTag(key, nonce, parts).join() !== nativeTag(key, nonce, parts).join()) {
    throw new Error(`the two tags differ at ${size} bytes`);
  }
  const js = measure(chachaPolyAadTag, key, nonce, parts);
  const native = measure(nativeTag, key, nonce, parts);
  rows.push({ size, js, native });
}

console.log(`Deno ${Deno.version.deno}, V8 ${Deno.version.v8}; µs per tag, median of ${ROUNDS} rounds`);
console.log("   bytes        js    native   js/native");
for (const { size, js, native } of rows) {
  console.log(
    `${String(size).padStart(8)}${js.toFixed(2).padStart(10)}${native.toFixed(2).padStart(10)}` +
      `${(js / native).toFixed(2).padStart(12)}`,
  );
}

// Each path as fixed cost + cost per byte, fitted on the two largest sizes that are still small enough for
// the fixed cost to matter (1 KiB and 16 KiB), then the size where the two lines cross.
const fit = (pick: (r: (typeof rows)[number]) => number) => {
  const a = rows.find((r) => r.size === 1024)!, b = rows.find((r) => r.size === 16384)!;
  const perByte = (pick(b) - pick(a)) / (b.size - a.size);
  return { fixed: pick(a) - perByte * a.size, perByte };
};
const jsLine = fit((r) => r.js), nativeLine = fit((r) => r.native);
const firstNativeFaster = rows.find((r) => r.native < r.js);
console.log(
  `js: ${jsLine.fixed.toFixed(2)} µs + ${(jsLine.perByte * 1024 * 1024 / 1000).toFixed(2)} ms/MiB; ` +
    `native: ${nativeLine.fixed.toFixed(2)} µs + ${
      (nativeLine.perByte * 1024 * 1024 / 1000).toFixed(2)
    } ms/MiB`,
);
const crossover = jsLine.perByte > nativeLine.perByte
  ? (nativeLine.fixed - jsLine.fixed) / (jsLine.perByte - nativeLine.perByte)
  : Infinity;
console.log(
  `crossover (fitted lines): ${Number.isFinite(crossover) ? `${Math.round(crossover)} bytes` : "none"}; ` +
    `first measured size where native is faster: ${firstNativeFaster ? firstNativeFaster.size : "none"}`,
);
