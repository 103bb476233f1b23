// Bounded binary field readers/writers for message payloads (big-endian, strict UTF-8).
// A payload is only parsed after its frame's MAC verified, but the reader still checks every length
// against the bytes present: a key holder with a broken encoder must get an error, not a crash.

import { FrameError } from "./frame_codec.ts";

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

export class PayloadWriter {
  private parts: Uint8Array[] = [];
  private total = 0;
  private push(b: Uint8Array): this {
    this.parts.push(b);
    this.total += b.length;
    return this;
  }
  u8(v: number): this {
    return this.push(Uint8Array.of(v));
  }
  u16(v: number): this {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, v);
    return this.push(b);
  }
  u32(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v);
    return this.push(b);
  }
  u64(v: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v));
    return this.push(b);
  }
  i64(v: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, BigInt(v));
    return this.push(b);
  }
  str(s: string): this {
    const b = utf8.encode(s);
    if (b.length > 0xffff) throw new RangeError("string field longer than 65535 bytes");
    return this.u16(b.length).push(b);
  }
  /** Fixed-size bytes (nonces, proofs): the reader knows the size. */
  raw(b: Uint8Array): this {
    return this.push(b);
  }
  blob(b: Uint8Array): this {
    return this.u32(b.length).push(b);
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.total);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
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
