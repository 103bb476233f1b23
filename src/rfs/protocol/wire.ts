// Bounded binary field readers/writers for message payloads (big-endian, strict UTF-8).
// A payload is only parsed after its frame's MAC verified, but the reader still checks every length
// against the bytes present: a key holder with a broken encoder must get an error, not a crash.

import { FrameError } from "./frame_codec.ts";

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Appends fields to one growing buffer (a message is encoded for every op sent: no allocation per field). */
export class PayloadWriter {
  private buf = new Uint8Array(64);
  private dv = new DataView(this.buf.buffer);
  private n = 0;
  private room(k: number): number {
    const at = this.n;
    if (at + k > this.buf.length) {
      const bigger = new Uint8Array(Math.max(this.buf.length * 2, at + k));
      bigger.set(this.buf.subarray(0, at));
      this.buf = bigger;
      this.dv = new DataView(bigger.buffer);
    }
    this.n = at + k;
    return at;
  }
  u8(v: number): this {
    const at = this.room(1);
    this.buf[at] = v;
    return this;
  }
  u16(v: number): this {
    const at = this.room(2); // before reading this.dv: room() may replace it
    this.dv.setUint16(at, v);
    return this;
  }
  u32(v: number): this {
    const at = this.room(4); // before reading this.dv: room() may replace it
    this.dv.setUint32(at, v);
    return this;
  }
  u64(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new RangeError(`u64 field: ${v} is not a non-negative integer`);
    }
    const at = this.room(8);
    this.dv.setUint32(at, Math.floor(v / 0x1_0000_0000));
    this.dv.setUint32(at + 4, v >>> 0);
    return this;
  }
  i64(v: number): this {
    const at = this.room(8);
    this.dv.setBigInt64(at, BigInt(v));
    return this;
  }
  str(s: string): this {
    // At most 3 bytes per UTF-16 unit: reserve that, write in place, give back what was not used.
    const at = this.room(2 + s.length * 3);
    const { written } = utf8.encodeInto(s, this.buf.subarray(at + 2));
    if (written > 0xffff) throw new RangeError("string field longer than 65535 bytes");
    this.dv.setUint16(at, written);
    this.n = at + 2 + written;
    return this;
  }
  /** Fixed-size bytes (nonces, proofs): the reader knows the size. */
  raw(b: Uint8Array): this {
    const at = this.room(b.length);
    this.buf.set(b, at);
    return this;
  }
  blob(b: Uint8Array): this {
    return this.u32(b.length).raw(b);
  }
  /** The payload (a view of the writer's buffer: the writer must not be used afterwards). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.n);
  }
}

export class PayloadReader {
  private pos = 0;
  private dv: DataView;
  constructor(private b: Uint8Array, private what: string) {
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  private need(n: number, field: string): void {
    if (this.pos + n > this.b.length) {
      throw new FrameError(
        "malformed",
        `${this.what}.${field}: ${n} bytes needed at byte ${this.pos}, ${this.b.length - this.pos} left`,
      );
    }
  }
  u8(field: string): number {
    this.need(1, field);
    return this.b[this.pos++];
  }
  u16(field: string): number {
    this.need(2, field);
    const v = this.dv.getUint16(this.pos);
    this.pos += 2;
    return v;
  }
  u32(field: string): number {
    this.need(4, field);
    const v = this.dv.getUint32(this.pos);
    this.pos += 4;
    return v;
  }
  u64(field: string): number {
    this.need(8, field);
    const v = this.dv.getBigUint64(this.pos);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new FrameError("malformed", `${this.what}.${field}: ${v} is above 2^53`);
    }
    return Number(v);
  }
  i64(field: string): number {
    this.need(8, field);
    const v = this.dv.getBigInt64(this.pos);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new FrameError("malformed", `${this.what}.${field}: ${v} is out of range`);
    }
    return Number(v);
  }
  str(field: string, max = 0xffff): string {
    const n = this.u16(`${field} length`);
    if (n > max) throw new FrameError("malformed", `${this.what}.${field}: ${n} bytes exceed ${max}`);
    this.need(n, field);
    const bytes = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    try {
      return strictUtf8.decode(bytes);
    } catch {
      throw new FrameError("malformed", `${this.what}.${field}: not valid UTF-8`);
    }
  }
  raw(field: string, n: number): Uint8Array {
    this.need(n, field);
    const out = this.b.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  /** A view into the payload (no copy). */
  blob(field: string, max: number): Uint8Array {
    const n = this.u32(`${field} length`);
    if (n > max) throw new FrameError("malformed", `${this.what}.${field}: ${n} bytes exceed ${max}`);
    this.need(n, field);
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  rest(): Uint8Array {
    const out = this.b.subarray(this.pos);
    this.pos = this.b.length;
    return out;
  }
  end(): void {
    if (this.pos !== this.b.length) {
      throw new FrameError(
        "malformed",
        `${this.what}: ${this.b.length - this.pos} unexpected trailing bytes`,
      );
    }
  }
}
