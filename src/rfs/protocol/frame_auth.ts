// The tag that authenticates a replication frame (header and payload), in two algorithms:
//
// - HMAC-SHA256 (32 bytes) for the two handshake frames. Their key is derived from the cluster key alone, so
//   it is the same in every connection: a MAC without a nonce is the only safe choice there.
// - Poly1305 (16 bytes) for every frame of a session: ChaCha20-Poly1305 (RFC 8439) with an empty plaintext
//   and the frame (header, then payload) as additional data, i.e. a one-time Poly1305 key drawn from
//   ChaCha20(session key, nonce) for each frame. The nonce is 4 zero bytes then the frame's sequence number
//   (u64, big-endian): session keys are fresh per connection and per direction and the sequence only grows,
//   so a nonce never repeats under one key (a repeat would reveal that frame's one-time key).
//
// Why Poly1305 rather than AES-GCM: measured in Deno 2.9 on the dev VM (2 shared vCPUs, AES-NI present),
// per MiB: node:crypto aes-256-gcm 11-13 ms (no hardware AES in its implementation), WebCrypto AES-GCM
// 2.4 ms (GMAC 0.9 ms, and asynchronous), HMAC-SHA256 0.77-0.85 ms, ChaCha20-Poly1305 encrypting 1.0-1.6 ms,
// Poly1305 over the frame as AAD 0.44 ms (small frames: see JS_TAG_MAX_BYTES), 0.23 ms with the system's
// OpenSSL (openssl_aad_tag.ts). The frames stay readable on the wire (as before); encrypting would cost
// more than the HMAC it replaces. See docs/replication.md, "Frames".
import { createCipheriv, createDecipheriv, createHash, type Hash, timingSafeEqual } from "node:crypto";
import { chachaPolyAadTag, constantTimeEqual16 } from "./chacha_poly_tag.ts";
import { type AadTagger, openSslAadTagger } from "./openssl_aad_tag.ts";

/**
 * Where frames above JS_TAG_MAX_BYTES get their tag: "auto" uses the system's OpenSSL when it loads
 * (openssl_aad_tag.ts), else node:crypto; "node" always node:crypto (tests compare the two).
 */
export type Poly1305Backend = "auto" | "node";

export type FrameAuthAlgorithm = "hmac-sha256" | "chacha20-poly1305";

export interface FrameAuth {
  readonly algorithm: FrameAuthAlgorithm;
  /** bytes of the tag that follows each frame's payload */
  readonly tagBytes: number;
  /** The tag of frame `seq` whose bytes before the tag are the concatenation of `parts`. */
  tag(seq: number, parts: readonly Uint8Array[]): Uint8Array;
  /** Constant-time check of `tag` against the frame's bytes. */
  verify(seq: number, parts: readonly Uint8Array[], tag: Uint8Array): boolean;
}

/**
 * HMAC-SHA256 with the key's inner and outer pads hashed once: each frame then starts from a copy of the
 * two hash states. Same result as createHmac, at about half the fixed cost per frame (createHmac sets up
 * the key anew every time, which dominates the MAC of a small frame).
 */
class HmacSha256FrameAuth implements FrameAuth {
  readonly algorithm = "hmac-sha256";
  readonly tagBytes = 32;
  private readonly inner: Hash;
  private readonly outer: Hash;
  constructor(key: Uint8Array) {
    const block = new Uint8Array(64);
    block.set(key.length > 64 ? createHash("sha256").update(key).digest() : key);
    this.inner = createHash("sha256").update(block.map((b) => b ^ 0x36));
    this.outer = createHash("sha256").update(block.map((b) => b ^ 0x5c));
  }
  tag(_seq: number, parts: readonly Uint8Array[]): Uint8Array {
    const h = this.inner.copy();
    for (const p of parts) h.update(p);
    return new Uint8Array(this.outer.copy().update(h.digest()).digest());
  }
  verify(seq: number, parts: readonly Uint8Array[], tag: Uint8Array): boolean {
    return tag.length === this.tagBytes && timingSafeEqual(this.tag(seq, parts), tag);
  }
}

export const POLY1305_KEY_BYTES = 32;

/**
 * Up to this many bytes a frame's tag is computed in TypeScript (chacha_poly_tag.ts, same bytes): about
 * 1-5 µs against 9-17 µs for node:crypto, whose cost is mostly setting up its cipher object; above, the
 * native code's speed per byte wins (measured crossover 2.3-2.7 KB: scripts/bench/frame_tag.ts).
 */
const JS_TAG_MAX_BYTES = 2048;

function totalBytes(parts: readonly Uint8Array[]): number {
  let n = 0;
  for (const p of parts) n += p.length;
  return n;
}

class Poly1305FrameAuth implements FrameAuth {
  readonly algorithm = "chacha20-poly1305";
  readonly tagBytes = 16;
  private readonly nonce = new Uint8Array(12);
  private readonly nonceView = new DataView(this.nonce.buffer);
  private readonly scratch = new Uint8Array(16);
  /** OpenSSL when it can be loaded (same bytes, faster per byte), else null: node:crypto. */
  private readonly native: AadTagger | null;
  constructor(private readonly key: Uint8Array, backend: Poly1305Backend) {
    this.native = backend === "node" ? null : openSslAadTagger();
    if (key.length !== POLY1305_KEY_BYTES) {
      throw new RangeError(`a session frame key must be ${POLY1305_KEY_BYTES} bytes, got ${key.length}`);
    }
  }
  private nonceFor(seq: number): Uint8Array {
    if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError("frame seq must be a u53");
    this.nonceView.setBigUint64(4, BigInt(seq));
    return this.nonce;
  }
  tag(seq: number, parts: readonly Uint8Array[]): Uint8Array {
    if (totalBytes(parts) <= JS_TAG_MAX_BYTES) return chachaPolyAadTag(this.key, this.nonceFor(seq), parts);
    if (this.native) return this.native.tag(this.key, this.nonceFor(seq), parts);
    const c = createCipheriv("chacha20-poly1305", this.key, this.nonceFor(seq), { authTagLength: 16 });
    // Successive AAD pieces are one AAD (checked against a single piece in the tests).
    for (const p of parts) c.setAAD(p, { plaintextLength: 0 });
    c.final();
    return new Uint8Array(c.getAuthTag());
  }
  verify(seq: number, parts: readonly Uint8Array[], tag: Uint8Array): boolean {
    if (tag.length !== this.tagBytes) return false;
    if (totalBytes(parts) <= JS_TAG_MAX_BYTES) {
      return constantTimeEqual16(chachaPolyAadTag(this.key, this.nonceFor(seq), parts, this.scratch), tag);
    }
    if (this.native) {
      return constantTimeEqual16(this.native.tag(this.key, this.nonceFor(seq), parts, this.scratch), tag);
    }
    const d = createDecipheriv("chacha20-poly1305", this.key, this.nonceFor(seq), { authTagLength: 16 });
    for (const p of parts) d.setAAD(p, { plaintextLength: 0 });
    d.setAuthTag(tag);
    try {
      d.final();
      return true;
    } catch {
      return false;
    }
  }
}

/** For the handshake frames (static key). */
export function hmacFrameAuth(key: Uint8Array): FrameAuth {
  return new HmacSha256FrameAuth(key);
}

/** For session frames: `key` must be fresh for this connection and direction (see the file comment). */
export function poly1305FrameAuth(key: Uint8Array, backend: Poly1305Backend = "auto"): FrameAuth {
  return new Poly1305FrameAuth(key, backend);
}

/** A raw key is an HMAC key (the handshake algorithm); a FrameAuth is used as it is. */
export function asFrameAuth(key: Uint8Array | FrameAuth): FrameAuth {
  return key instanceof Uint8Array ? hmacFrameAuth(key) : key;
}
