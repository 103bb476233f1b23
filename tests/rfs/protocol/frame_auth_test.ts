// The session frame tag is standard ChaCha20-Poly1305 (RFC 8439) with the frame as AAD and the sequence
// number as nonce; the handshake tag is standard HMAC-SHA256.
import assert from "node:assert/strict";
import { createCipheriv, createHmac } from "node:crypto";
import { hmacFrameAuth, poly1305FrameAuth } from "../../../src/rfs/protocol/frame_auth.ts";

const hex = (s: string) =>
  new Uint8Array(s.replace(/[^0-9a-f]/g, "").match(/../g)!.map((b) => parseInt(b, 16)));

Deno.test("frame auth: the runtime's chacha20-poly1305 gives RFC 8439's test vector (section 2.8.2)", () => {
  const key = new Uint8Array(32).map((_, i) => 0x80 + i);
  const nonce = hex("07000000 40414243 44454647");
  const c = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
  c.setAAD(hex("50515253 c0c1c2c3 c4c5c6c7"), { plaintextLength: 114 });
  const text =
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, " +
    "sunscreen would be it.";
  const ct = c.update(new TextEncoder().encode(text));
  c.final();
  assert.deepEqual(new Uint8Array(ct.subarray(0, 8)), hex("d31a8d34 648e60db"));
  assert.deepEqual(new Uint8Array(c.getAuthTag()), hex("1ae10b59 4f09e26a 7e902ecb d0600691"));
});

Deno.test("frame auth: a session tag is ChaCha20-Poly1305 with no plaintext, the frame as AAD, 0^4 | seq as nonce", () => {
  const key = new Uint8Array(32).fill(3);
  const header = new Uint8Array(20).fill(1), payload = new Uint8Array(3000).fill(2);
  const seq = 2 ** 40 + 5;
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setBigUint64(4, BigInt(seq));
  const c = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
  c.setAAD(new Uint8Array([...header, ...payload]), { plaintextLength: 0 });
  c.final();
  const auth = poly1305FrameAuth(key);
  assert.deepEqual(auth.tag(seq, [header, payload]), new Uint8Array(c.getAuthTag()));
  assert.ok(auth.verify(seq, [header, payload], auth.tag(seq, [header, payload])));
});

Deno.test("frame auth: small frames (tag computed in TypeScript) and large ones (node:crypto) give the runtime's tag", () => {
  const key = new Uint8Array(32).map((_, i) => i * 7 + 1);
  const auth = poly1305FrameAuth(key);
  // Sizes around the switch between the two implementations, and a few far from it.
  for (const size of [0, 1, 16, 100, 2000, 2027, 2028, 2029, 2047, 2048, 2049, 4096, 70_000]) {
    const header = new Uint8Array(20).map((_, i) => i + size);
    const payload = new Uint8Array(size).map((_, i) => (i * 31 + size) & 255);
    const seq = size * 3 + 1;
    const nonce = new Uint8Array(12);
    new DataView(nonce.buffer).setBigUint64(4, BigInt(seq));
    const c = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
    c.setAAD(new Uint8Array([...header, ...payload]), { plaintextLength: 0 });
    c.final();
    const expected = new Uint8Array(c.getAuthTag());
    assert.deepEqual(auth.tag(seq, [header, payload]), expected, `size ${size}`);
    assert.ok(auth.verify(seq, [header, payload], expected), `size ${size}`);
    const bad = expected.slice();
    bad[size % 16] ^= 1;
    assert.equal(auth.verify(seq, [header, payload], bad), false, `size ${size}: a flipped bit`);
  }
});

Deno.test("frame auth: the same bytes under another sequence number get another tag and do not verify", () => {
  const auth = poly1305FrameAuth(new Uint8Array(32).fill(4));
  const parts = [new Uint8Array(20), new Uint8Array(100)];
  const t0 = auth.tag(0, parts), t1 = auth.tag(1, parts);
  assert.notDeepEqual(t0, t1);
  assert.equal(auth.verify(1, parts, t0), false);
  assert.equal(auth.verify(0, parts, t0.subarray(0, 15)), false, "a short tag");
});

Deno.test("frame auth: a session key must be 32 bytes", () => {
  assert.throws(() => poly1305FrameAuth(new Uint8Array(16)), /must be 32 bytes, got 16/);
});

Deno.test("frame auth: the handshake tag is HMAC-SHA256 over the frame (pads hashed once per key)", () => {
  const key = new Uint8Array(32).fill(7);
  const auth = hmacFrameAuth(key);
  for (let i = 0; i < 3; i++) {
    const parts = [new Uint8Array(20).fill(i), new Uint8Array(5000).fill(9)];
    const expected = createHmac("sha256", key).update(parts[0]).update(parts[1]).digest();
    assert.deepEqual(auth.tag(i, parts), new Uint8Array(expected));
  }
});
