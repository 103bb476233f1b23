// The OpenSSL backend of the session frame tag gives node:crypto's bytes, so nodes using either backend
// interoperate. Skips (saying why) only where libcrypto.so.3 is missing; CI installs it.
import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import { poly1305FrameAuth } from "../../../src/rfs/protocol/frame_auth.ts";
import {
  openSslAadTagger,
  openSslUnavailableReason,
  SELF_TEST_TAG,
} from "../../../src/rfs/protocol/openssl_aad_tag.ts";

const tagger = openSslAadTagger();
const inCi = Deno.env.get("CI") === "true";
if (!tagger && !inCi) console.log(`openssl_aad_tag_test skipped: ${openSslUnavailableReason}`);

function nodeTag(key: Uint8Array, nonce: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
  const c = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
  for (const p of parts) c.setAAD(p, { plaintextLength: 0 });
  c.final();
  return new Uint8Array(c.getAuthTag());
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

Deno.test({
  name: "openssl tag: the self-test answer is node:crypto's",
  fn() {
    const key = new Uint8Array(32).map((_, i) => 0x80 + i);
    const nonce = new Uint8Array([7, 0, 0, 0, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47]);
    const aad = new Uint8Array([0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1, 0xc2, 0xc3]);
    assert.equal(hex(nodeTag(key, nonce, [aad])), SELF_TEST_TAG);
  },
});

Deno.test({
  name: "openssl tag: loads in CI (libcrypto.so.3 is installed there)",
  ignore: !inCi,
  fn() {
    assert.ok(tagger, `${openSslUnavailableReason}`);
  },
});

Deno.test({
  name: "openssl tag: same bytes as node:crypto for every length 0-300 and random splits up to 3 MB",
  ignore: !tagger,
  fn() {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const nonce = crypto.getRandomValues(new Uint8Array(12));
    const data = new Uint8Array(3 << 20).map((_, i) => (i * 131 + (i >> 9)) & 255);
    for (let n = 0; n <= 300; n++) {
      const parts = [data.subarray(0, n)];
      assert.equal(hex(tagger!.tag(key, nonce, parts)), hex(nodeTag(key, nonce, parts)), `length ${n}`);
    }
    let seed = 12345;
    const rand = (m: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % m);
    for (let round = 0; round < 40; round++) {
      const total = round < 4 ? data.length - rand(100) : rand(300_000);
      const parts: Uint8Array[] = [];
      for (let at = 0; at < total;) {
        const len = Math.min(total - at, rand(5) === 0 ? 0 : 1 + rand(70_000));
        parts.push(data.subarray(at, at + len));
        at += len;
      }
      nonce[round % 12] ^= round;
      const out = new Uint8Array(16);
      assert.equal(
        hex(tagger!.tag(key, nonce, parts, out)),
        hex(nodeTag(key, nonce, parts)),
        `round ${round}`,
      );
    }
  },
});

Deno.test({
  name: "openssl tag: frame auth gives the same tags with either backend and refuses a flipped bit",
  ignore: !tagger,
  fn() {
    const key = new Uint8Array(32).map((_, i) => i * 5 + 3);
    const viaOpenSsl = poly1305FrameAuth(key), viaNode = poly1305FrameAuth(key, "node");
    for (const size of [2048, 2049, 4096, 262_144, 1 << 20]) {
      const parts = [new Uint8Array(24).fill(size & 255), new Uint8Array(size).map((_, i) => i * 7)];
      const t = viaOpenSsl.tag(size, parts);
      assert.deepEqual(t, viaNode.tag(size, parts), `size ${size}`);
      assert.ok(viaNode.verify(size, parts, t) && viaOpenSsl.verify(size, parts, t), `size ${size}`);
      const bad = t.slice();
      bad[size % 16] ^= 0x80;
      assert.equal(viaOpenSsl.verify(size, parts, bad), false, `size ${size}: a flipped bit`);
      parts[1][size - 1] ^= 1;
      assert.equal(viaOpenSsl.verify(size, parts, t), false, `size ${size}: a flipped payload bit`);
    }
  },
});

Deno.test({
  name: "openssl tag: bad key, nonce or output sizes are refused before OpenSSL is called",
  ignore: !tagger,
  fn() {
    assert.throws(() => tagger!.tag(new Uint8Array(16), new Uint8Array(12), []), /key is 32 bytes, got 16/);
    assert.throws(() => tagger!.tag(new Uint8Array(32), new Uint8Array(8), []), /nonce is 12 bytes, got 8/);
    assert.throws(
      () => tagger!.tag(new Uint8Array(32), new Uint8Array(12), [], new Uint8Array(8)),
      /needs 16 bytes, got 8/,
    );
  },
});
