// Frames of the replication stream (TCP, primary <-> secondary), authenticated per connection.
//
// Layout (big-endian):
//   magic "SKRP" (4) | version u8 | type u8 | reserved u16 (0) | sequence u64 | payload length u32
//   | payload | HMAC-SHA256 (32) over every byte before it
//
// Why this order of checks: magic, version and the length bound are fixed-offset reads, so stray traffic
// and a peer of another release are reported precisely and an attacker cannot make us buffer more than
// `maxPayloadBytes`; nothing inside the payload is looked at before the MAC verifies. The sequence number
// is under the MAC and must be exactly the next one: TCP keeps order, so any other value is a replayed,
// dropped or reordered frame, and the connection is closed.
//
// Each direction has its own key and its own sequence (see handshake.ts), so a frame cannot be reflected
// back to its sender nor replayed in another connection.
import { createHash, type Hash, timingSafeEqual } from "node:crypto";

export const FRAME_MAGIC = new Uint8Array([0x53, 0x4b, 0x52, 0x50]); // "SKRP"
export const FRAME_VERSION = 1;
export const FRAME_HEADER_BYTES = 20;
export const FRAME_MAC_BYTES = 32;
/** A write op carries up to 16 MiB of data; reintegration replies up to 8 MiB (reipacketsize) plus a header. */
export const DEFAULT_MAX_PAYLOAD_BYTES = (16 << 20) + 64 * 1024;

export type Frame = { readonly type: number; readonly seq: number; readonly payload: Uint8Array };

export type FrameErrorCode =
  | "truncated" // the connection ended inside a frame
  | "oversized" // declared payload length above the limit
  | "bad_magic"
  | "bad_version"
  | "bad_mac"
  | "replayed" // a sequence number already seen on this connection
  | "out_of_order" // a sequence number ahead of the next one (a frame went missing)
  | "malformed"; // MAC valid but the payload does not decode (reported by the message layer)

export class FrameError extends Error {
  override name = "FrameError";
  constructor(readonly code: FrameErrorCode, detail: string) {
    super(`replication frame ${code}: ${detail}`);
  }
}

/**
 * HMAC-SHA256 with the key's inner and outer pads hashed once: each frame then starts from a copy of the
 * two hash states. Same result as createHmac, at about half the fixed cost per frame (createHmac sets up
 * the key anew every time, which dominates the MAC of a small frame).
 */
class HmacKey {
  private readonly inner: Hash;
  private readonly outer: Hash;
  constructor(key: Uint8Array) {
    const block = new Uint8Array(64);
    block.set(key.length > 64 ? createHash("sha256").update(key).digest() : key);
    this.inner = createHash("sha256").update(block.map((b) => b ^ 0x36));
    this.outer = createHash("sha256").update(block.map((b) => b ^ 0x5c));
  }
  mac(parts: readonly Uint8Array[]): Uint8Array {
    const h = this.inner.copy();
    for (const p of parts) h.update(p);
    return new Uint8Array(this.outer.copy().update(h.digest()).digest());
  }
}

const hmacKeys = new WeakMap<Uint8Array, HmacKey>();

function mac(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  let k = hmacKeys.get(key);
  if (k === undefined) hmacKeys.set(key, k = new HmacKey(key));
  return k.mac(parts);
}

/** Builds one frame. Throws a RangeError only on programming errors. */
export function sealFrame(
  key: Uint8Array,
  frame: Frame,
  maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES,
): Uint8Array {
  const pieces = sealFrameParts(key, frame.type, frame.seq, [frame.payload], maxPayloadBytes);
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of pieces) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Builds one frame whose payload is the concatenation of `parts`, without concatenating them: returns the
 * header, the parts themselves and the MAC, to be written in this order. The MAC is computed over the
 * pieces one after the other, so a 1 MiB payload is neither copied nor allocated again.
 */
export function sealFrameParts(
  key: Uint8Array,
  type: number,
  seq: number,
  parts: readonly Uint8Array[],
  maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES,
): Uint8Array[] {
  if (!Number.isInteger(type) || type < 0 || type > 255) throw new RangeError("frame type must be a byte");
  if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError("frame seq must be a u53");
  let length = 0;
  for (const p of parts) length += p.length;
  if (length > maxPayloadBytes) {
    throw new RangeError(`frame payload of ${length} bytes exceeds ${maxPayloadBytes}`);
  }
  const header = new Uint8Array(FRAME_HEADER_BYTES);
  const dv = new DataView(header.buffer);
  header.set(FRAME_MAGIC, 0);
  header[4] = FRAME_VERSION;
  header[5] = type;
  dv.setBigUint64(8, BigInt(seq));
  dv.setUint32(16, length);
  return [header, ...parts, mac(key, header, ...parts)];
}

/**
 * Reusable buffers for large received payloads. A fresh 1 MiB ArrayBuffer costs about as much as the
 * MAC of its contents on the dev VM (new pages, zero-filled, later unmapped), so the receiver gives the
 * payload of an applied write back with `recycle` and the next frame reuses it.
 */
export class PayloadPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private pooledBytes = 0;

  constructor(private readonly maxPooledBytes = 64 << 20, private readonly minBytes = 4096) {}

  /**
   * Buffer sizes are rounded up to 4 KiB (up to 64 KiB) or to 64 KiB (above), not to powers of two: a
   * 256 KiB write piece plus its header must not take 512 KiB, nor an 8 MiB reintegration reply 16 MiB.
   */
  private static sizeClass(n: number): number {
    const step = n <= 64 * 1024 ? 4096 : 64 * 1024;
    return Math.ceil(n / step) * step;
  }

  /** A buffer of exactly `n` bytes (its contents are not cleared). */
  take(n: number): Uint8Array {
    if (n < this.minBytes) return new Uint8Array(n);
    const size = PayloadPool.sizeClass(n);
    const b = this.free.get(size)?.pop();
    if (b === undefined) return new Uint8Array(size).subarray(0, n);
    this.pooledBytes -= size;
    return new Uint8Array(b, 0, n);
  }

  /** Gives back a buffer from `take` once nothing refers to it any more. Others are ignored. */
  recycle(view: Uint8Array): void {
    const b = view.buffer;
    const size = b.byteLength;
    if (!(b instanceof ArrayBuffer) || size < this.minBytes || PayloadPool.sizeClass(size) !== size) return;
    if (this.pooledBytes + size > this.maxPooledBytes) return;
    const list = this.free.get(size) ?? [];
    if (list.includes(b)) return;
    list.push(b);
    this.free.set(size, list);
    this.pooledBytes += size;
  }
}

/**
 * Splits a byte stream into verified frames. `push` bytes as they arrive, then call `next()` until it
 * returns null; `end()` when the stream closes. Every error is final: the connection must be closed.
 */
export class FrameDecoder {
  private buf = new Uint8Array(64 * 1024);
  private start = 0;
  private end = 0;
  private failed: FrameError | null = null;

  constructor(
    private key: Uint8Array,
    /** sequence number the next frame must carry */
    public expectedSeq = 0,
    readonly maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES,
    private readonly pool: PayloadPool | null = null,
  ) {}

  /** Later frames of the same stream are verified with another key (after the handshake). */
  rekey(key: Uint8Array): void {
    this.key = key;
  }

  get buffered(): number {
    return this.end - this.start;
  }

  push(chunk: Uint8Array): void {
    if (this.end + chunk.length > this.buf.length) {
      const live = this.end - this.start;
      if (live + chunk.length <= this.buf.length && this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        const bigger = new Uint8Array(Math.max(this.buf.length * 2, live + chunk.length));
        bigger.set(this.buf.subarray(this.start, this.end));
        this.buf = bigger;
      }
      this.start = 0;
      this.end = live;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** The next complete frame, or null if more bytes are needed. The payload is a copy (from the pool if any). */
  next(): Frame | null {
    if (this.failed) throw this.failed;
    const have = this.end - this.start;
    if (have < FRAME_HEADER_BYTES) {
      // Report foreign traffic as soon as its first bytes arrive, not only when a header is complete.
      this.checkPrefix(Math.min(have, 5));
      return null;
    }
    const b = this.buf.subarray(this.start, this.end);
    this.checkPrefix(5);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const length = dv.getUint32(16);
    if (length > this.maxPayloadBytes) {
      return this.fail(
        "oversized",
        `payload of ${length} bytes declared, the limit is ${this.maxPayloadBytes}`,
      );
    }
    const total = FRAME_HEADER_BYTES + length + FRAME_MAC_BYTES;
    if (have < total) return null;
    const signedEnd = FRAME_HEADER_BYTES + length;
    const expected = mac(this.key, b.subarray(0, signedEnd));
    if (!timingSafeEqual(expected, b.subarray(signedEnd, total))) {
      return this.fail("bad_mac", "the frame is not signed with this connection's key (wrong cluster key?)");
    }
    const seqBig = dv.getBigUint64(8);
    const seq = seqBig > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(seqBig);
    if (seq < this.expectedSeq) {
      return this.fail("replayed", `sequence ${seqBig} was already received (next is ${this.expectedSeq})`);
    }
    if (seq > this.expectedSeq) {
      return this.fail("out_of_order", `sequence ${seqBig} received, ${this.expectedSeq} expected`);
    }
    this.expectedSeq++;
    const payload = this.pool === null ? new Uint8Array(length) : this.pool.take(length);
    payload.set(b.subarray(FRAME_HEADER_BYTES, signedEnd));
    const frame = { type: b[5], seq, payload };
    this.start += total;
    if (this.start === this.end) this.start = this.end = 0;
    return frame;
  }

  /** The stream ended: an error if it ended inside a frame. */
  finish(): void {
    if (this.failed) throw this.failed;
    const have = this.end - this.start;
    if (have > 0) this.fail("truncated", `the connection closed with ${have} bytes of an incomplete frame`);
  }

  private checkPrefix(n: number): void {
    const b = this.buf;
    for (let i = 0; i < Math.min(n, 4); i++) {
      if (b[this.start + i] !== FRAME_MAGIC[i]) {
        this.fail("bad_magic", "the peer does not speak the SafeKit replication protocol");
      }
    }
    if (n >= 5 && b[this.start + 4] !== FRAME_VERSION) {
      this.fail(
        "bad_version",
        `protocol version ${
          b[this.start + 4]
        } received, this node speaks ${FRAME_VERSION} (upgrade both nodes)`,
      );
    }
  }

  private fail(code: FrameErrorCode, detail: string): never {
    this.failed = new FrameError(code, detail);
    throw this.failed;
  }
}
