// Frames of the replication stream (TCP, primary <-> secondary), authenticated per connection.
//
// Layout (big-endian):
//   magic "SKRP" (4) | version u8 | type u8 | reserved u16 (0) | sequence u64 | payload length u32
//   | payload | tag over every byte before it
// The tag is HMAC-SHA256 (32 bytes) on the two handshake frames and Poly1305 (16 bytes, ChaCha20-Poly1305
// with the frame as AAD and the sequence as nonce) on session frames: see frame_auth.ts. The decoder knows
// which from the key it currently holds (it is switched between frames, after the handshake).
//
// Why this order of checks: magic, version and the length bound are fixed-offset reads, so stray traffic
// and a peer of another release are reported precisely and an attacker cannot make us buffer more than
// `maxPayloadBytes`; nothing inside the payload is looked at before the tag verifies. The sequence number
// is under the tag and must be exactly the next one: TCP keeps order, so any other value is a replayed,
// dropped or reordered frame, and the connection is closed.
//
// Each direction has its own key and its own sequence (see handshake.ts), so a frame cannot be reflected
// back to its sender nor replayed in another connection.
import { asFrameAuth, type FrameAuth } from "./frame_auth.ts";

export const FRAME_MAGIC = new Uint8Array([0x53, 0x4b, 0x52, 0x50]); // "SKRP"
/** 1: HMAC-SHA256 on every frame (up to 2026-11); 2: Poly1305 on session frames, HKDF session keys. */
export const FRAME_VERSION = 2;
export const FRAME_HEADER_BYTES = 20;
/** The largest tag (HMAC-SHA256, handshake frames); session frames carry 16 bytes. */
export const FRAME_MAC_BYTES = 32;
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
  constructor(
    readonly code: FrameErrorCode,
    detail: string,
    /** with bad_version: the version the peer spoke */
    readonly peerVersion?: number,
  ) {
    super(`replication frame ${code}: ${detail}`);
  }
}

/** Builds one frame. Throws a RangeError only on programming errors. */
export function sealFrame(
  key: Uint8Array | FrameAuth,
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
 * header, the parts themselves and the tag, to be written in this order. The tag is computed over the
 * pieces one after the other, so a 1 MiB payload is neither copied nor allocated again. A raw key means
 * HMAC-SHA256 (the handshake algorithm).
 */
export function sealFrameParts(
  key: Uint8Array | FrameAuth,
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
  return [header, ...parts, asFrameAuth(key).tag(seq, [header, ...parts])];
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
 * A payload at least this large is received straight into its final buffer: once its header is in, the
 * rest of the payload goes there (`directTarget` lets the reader hand that buffer to the socket), instead
 * of into the reassembly buffer and then, once more, into the payload.
 */
export const DIRECT_PAYLOAD_BYTES = 64 * 1024;

/** A large frame being received in place. */
type LargeFrame = {
  readonly auth: FrameAuth;
  readonly header: Uint8Array;
  readonly payload: Uint8Array;
  filled: number;
  readonly tag: Uint8Array;
  tagFilled: number;
};

/**
 * Splits a byte stream into verified frames. `push` bytes as they arrive (or read into `directTarget()` and
 * report them with `directReceived`), then call `next()` until it returns null; `finish()` when the stream
 * closes. Every error is final: the connection must be closed.
 */
export class FrameDecoder {
  private buf = new Uint8Array(64 * 1024);
  private start = 0;
  private end = 0;
  private failed: FrameError | null = null;
  private auth: FrameAuth;
  private large: LargeFrame | null = null;

  constructor(
    key: Uint8Array | FrameAuth,
    /** sequence number the next frame must carry */
    public expectedSeq = 0,
    readonly maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES,
    private readonly pool: PayloadPool | null = null,
  ) {
    this.auth = asFrameAuth(key);
  }

  /** Later frames of the same stream are verified with another key (after the handshake). */
  rekey(key: Uint8Array | FrameAuth): void {
    this.auth = asFrameAuth(key);
  }

  /** Bytes received of frames not returned yet. */
  get buffered(): number {
    const l = this.large;
    return this.end - this.start + (l === null ? 0 : FRAME_HEADER_BYTES + l.filled + l.tagFilled);
  }

  push(chunk: Uint8Array): void {
    let c = chunk;
    const l = this.large;
    if (l !== null) {
      const p = Math.min(c.length, l.payload.length - l.filled);
      l.payload.set(c.subarray(0, p), l.filled);
      l.filled += p;
      const t = Math.min(c.length - p, l.tag.length - l.tagFilled);
      l.tag.set(c.subarray(p, p + t), l.tagFilled);
      l.tagFilled += t;
      c = c.subarray(p + t);
      if (c.length === 0) return;
    }
    if (this.end + c.length > this.buf.length) {
      const live = this.end - this.start;
      if (live + c.length <= this.buf.length && this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        const bigger = new Uint8Array(Math.max(this.buf.length * 2, live + c.length));
        bigger.set(this.buf.subarray(this.start, this.end));
        this.buf = bigger;
      }
      this.start = 0;
      this.end = live;
    }
    this.buf.set(c, this.end);
    this.end += c.length;
  }

  /**
   * Where the next bytes of the stream belong when they are the rest of a large payload: read into it and
   * call `directReceived(n)`. Null when bytes must go through `push`.
   */
  directTarget(): Uint8Array | null {
    const l = this.large;
    return l !== null && l.filled < l.payload.length ? l.payload.subarray(l.filled) : null;
  }

  directReceived(n: number): void {
    const l = this.large;
    if (l === null || n < 0 || l.filled + n > l.payload.length) {
      throw new RangeError("directReceived without a matching directTarget");
    }
    l.filled += n;
  }

  /** The next complete frame, or null if more bytes are needed. The payload is a copy (from the pool if any). */
  next(): Frame | null {
    if (this.failed) throw this.failed;
    if (this.large !== null) return this.nextLarge();
    const have = this.end - this.start;
    if (have < FRAME_HEADER_BYTES) {
      // Report foreign traffic as soon as its first bytes arrive, not only when a header is complete.
      this.checkPrefix(Math.min(have, 5));
      return null;
    }
    const b = this.buf.subarray(this.start, this.end);
    this.checkPrefix(5);
    const length = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(16);
    if (length > this.maxPayloadBytes) {
      return this.fail(
        "oversized",
        `payload of ${length} bytes declared, the limit is ${this.maxPayloadBytes}`,
      );
    }
    const signedEnd = FRAME_HEADER_BYTES + length;
    const total = signedEnd + this.auth.tagBytes;
    if (have < total) {
      if (length >= DIRECT_PAYLOAD_BYTES) this.startLarge(length);
      return null;
    }
    const header = b.subarray(0, FRAME_HEADER_BYTES);
    const body = b.subarray(FRAME_HEADER_BYTES, signedEnd);
    const seq = this.verified(this.auth, header, body, b.subarray(signedEnd, total));
    const payload = this.pool === null ? new Uint8Array(length) : this.pool.take(length);
    payload.set(body);
    const frame = { type: b[5], seq, payload };
    this.start += total;
    if (this.start === this.end) this.start = this.end = 0;
    return frame;
  }

  /** The stream ended: an error if it ended inside a frame. */
  finish(): void {
    if (this.failed) throw this.failed;
    const have = this.buffered;
    if (have > 0) this.fail("truncated", `the connection closed with ${have} bytes of an incomplete frame`);
  }

  /** Moves the buffered part of a large frame into its payload buffer, where the rest will be received. */
  private startLarge(length: number): void {
    const header = this.buf.slice(this.start, this.start + FRAME_HEADER_BYTES);
    const payload = this.pool === null ? new Uint8Array(length) : this.pool.take(length);
    const from = this.start + FRAME_HEADER_BYTES;
    const inPayload = Math.min(this.end - from, length);
    payload.set(this.buf.subarray(from, from + inPayload));
    const tag = new Uint8Array(this.auth.tagBytes);
    // What is left is shorter than the tag (the frame is incomplete, or next() would have returned it).
    const inTag = this.end - (from + inPayload);
    tag.set(this.buf.subarray(from + inPayload, this.end));
    this.start = this.end = 0;
    this.large = { auth: this.auth, header, payload, filled: inPayload, tag, tagFilled: inTag };
  }

  private nextLarge(): Frame | null {
    const l = this.large!;
    if (l.filled < l.payload.length || l.tagFilled < l.tag.length) return null;
    this.large = null;
    const seq = this.verified(l.auth, l.header, l.payload, l.tag);
    return { type: l.header[5], seq, payload: l.payload };
  }

  /** Checks the tag, then the sequence number; returns the sequence number. */
  private verified(auth: FrameAuth, header: Uint8Array, body: Uint8Array, tag: Uint8Array): number {
    const seqBig = new DataView(header.buffer, header.byteOffset, FRAME_HEADER_BYTES).getBigUint64(8);
    if (seqBig > BigInt(Number.MAX_SAFE_INTEGER)) {
      // Cannot be the next one (and is no valid nonce): refused without computing a tag.
      return this.fail("out_of_order", `sequence ${seqBig} received, ${this.expectedSeq} expected`);
    }
    const seq = Number(seqBig);
    if (!auth.verify(seq, [header, body], tag)) {
      return this.fail("bad_mac", "the frame is not signed with this connection's key (wrong cluster key?)");
    }
    if (seq < this.expectedSeq) {
      return this.fail("replayed", `sequence ${seqBig} was already received (next is ${this.expectedSeq})`);
    }
    if (seq > this.expectedSeq) {
      return this.fail("out_of_order", `sequence ${seqBig} received, ${this.expectedSeq} expected`);
    }
    this.expectedSeq++;
    return seq;
  }

  private checkPrefix(n: number): void {
    const b = this.buf;
    for (let i = 0; i < Math.min(n, 4); i++) {
      if (b[this.start + i] !== FRAME_MAGIC[i]) {
        this.fail("bad_magic", "the peer does not speak the SafeKit replication protocol");
      }
    }
    if (n >= 5 && b[this.start + 4] !== FRAME_VERSION) {
      const v = b[this.start + 4];
      this.fail(
        "bad_version",
        `protocol version ${v} received, this node speaks ${FRAME_VERSION} (${
          v < FRAME_VERSION ? "the peer runs an older release" : "the peer runs a newer release"
        }: upgrade both nodes)`,
        v,
      );
    }
  }

  private fail(code: FrameErrorCode, detail: string, peerVersion?: number): never {
    this.failed = new FrameError(code, detail, peerVersion);
    throw this.failed;
  }
}
