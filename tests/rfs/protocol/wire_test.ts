// The payload field writer and reader: every field round-trips, the writer grows past its first buffer, and
// the reader refuses what is short.
import assert from "node:assert/strict";
import { PayloadReader, PayloadWriter } from "../../../src/rfs/protocol/wire.ts";
import { FrameError } from "../../../src/rfs/protocol/frame_codec.ts";

Deno.test("wire: fields round-trip across buffer growth (u64 up to 2^53-1, negative i64, UTF-8 strings)", () => {
  const w = new PayloadWriter();
  const long = "é".repeat(1000) + "日本";
  w.u8(255).u16(65535).u32(0xffffffff).u64(Number.MAX_SAFE_INTEGER).u64(2 ** 32 + 7).i64(-5)
    .str("").str(long).raw(new Uint8Array([1, 2, 3])).blob(new Uint8Array(300).fill(9));
  const r = new PayloadReader(w.bytes(), "test");
  assert.equal(r.u8("a"), 255);
  assert.equal(r.u16("b"), 65535);
  assert.equal(r.u32("c"), 0xffffffff);
  assert.equal(r.u64("d"), Number.MAX_SAFE_INTEGER);
  assert.equal(r.u64("e"), 2 ** 32 + 7);
  assert.equal(r.i64("f"), -5);
  assert.equal(r.str("g", 10), "");
  assert.equal(r.str("h", 65535), long);
  assert.deepEqual(r.raw("i", 3), new Uint8Array([1, 2, 3]));
  assert.deepEqual(r.blob("j", 1000), new Uint8Array(300).fill(9));
  assert.throws(() => r.u8("k"), FrameError);
});

Deno.test("wire: a u64 that is not a non-negative safe integer is refused when written", () => {
  for (const bad of [-1, 1.5, 2 ** 53, NaN]) assert.throws(() => new PayloadWriter().u64(bad), RangeError);
  assert.throws(() => new PayloadWriter().str("x".repeat(70_000)), RangeError);
});
