import assert from "node:assert/strict";
import {
  cstringAt,
  decodeInHeader,
  decodeInitIn,
  decodeSetattrIn,
  direntSize,
  encodeDirent,
  encodeInitOut,
  encodeOutHeader,
  Fattr,
  FuseProtocolError,
  IN_HEADER_SIZE,
  InitFlag,
  InitFlag2,
  negotiateInit,
  Op,
  OUT_HEADER_SIZE,
} from "../../../src/rfs/fuse/fuse_abi.ts";

function request(opcode: number, body: Uint8Array): Uint8Array {
  const b = new Uint8Array(IN_HEADER_SIZE + body.length);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, b.length, true);
  dv.setUint32(4, opcode, true);
  dv.setBigUint64(8, 77n, true);
  dv.setBigUint64(16, 5n, true);
  dv.setUint32(24, 1000, true);
  dv.setUint32(28, 100, true);
  dv.setUint32(32, 4242, true);
  b.set(body, IN_HEADER_SIZE);
  return b;
}

Deno.test("in-header: decoded fields, and a length that disagrees with read() is refused", () => {
  const b = request(Op.LOOKUP, new TextEncoder().encode("name\0"));
  assert.deepEqual(decodeInHeader(b, b.length), {
    len: b.length,
    opcode: Op.LOOKUP,
    unique: 77n,
    nodeid: 5n,
    uid: 1000,
    gid: 100,
    pid: 4242,
  });
  assert.throws(() => decodeInHeader(b, b.length - 1), FuseProtocolError);
  assert.throws(() => decodeInHeader(b, 10), /shorter than its header/);
  assert.equal(new TextDecoder().decode(cstringAt(b, IN_HEADER_SIZE, b.length).bytes), "name");
  assert.throws(() => cstringAt(b, IN_HEADER_SIZE, b.length - 1), /unterminated/);
});

Deno.test("INIT: we accept only offered flags we implement, and 1 MiB writes mean 256 pages", () => {
  const body = new Uint8Array(64);
  const dv = new DataView(body.buffer);
  const offered = 0x73fffffb; // what kernel 6.18 offers
  dv.setUint32(0, 7, true);
  dv.setUint32(4, 45, true);
  dv.setUint32(8, 131072, true);
  dv.setUint32(12, offered, true);
  dv.setUint32(16, 0x5fd, true);
  const kernel = decodeInitIn(request(Op.INIT, body));
  assert.equal(kernel.flags2, 0x5fd);
  const init = negotiateInit(kernel, 1 << 20, 32);
  assert.equal(init.maxPages, 256);
  assert.equal(init.minor, 38);
  assert.equal(init.flags & ~offered, 0);
  assert.ok(
    init.flags & InitFlag.BIG_WRITES && init.flags & InitFlag.MAX_PAGES && init.flags & InitFlag.ASYNC_READ,
  );
  assert.equal(
    init.flags & InitFlag.WRITEBACK_CACHE,
    0,
    "writeback cache would let writes return before replication",
  );
  assert.equal(init.flags & InitFlag.DONT_MASK, 0, "the kernel must apply the caller's umask");
  assert.equal(init.flags & InitFlag.ATOMIC_O_TRUNC, 0, "O_TRUNC must arrive as a SETATTR we replicate");
  const older = negotiateInit({ ...kernel, flags: InitFlag.ASYNC_READ, minor: 26 }, 1 << 20, 32);
  assert.equal(older.flags, InitFlag.ASYNC_READ);
  assert.equal(older.minor, 26);
  const out = new Uint8Array(OUT_HEADER_SIZE + 64);
  assert.equal(encodeInitOut(out, init), 64);
  const odv = new DataView(out.buffer);
  assert.equal(odv.getUint32(OUT_HEADER_SIZE + 20, true), 1 << 20);
  assert.equal(odv.getUint16(OUT_HEADER_SIZE + 28, true), 256);
});

Deno.test("reply header: an error reply carries -errno and no body", () => {
  const out = new Uint8Array(64);
  assert.equal(encodeOutHeader(out, 9n, 2, 40), OUT_HEADER_SIZE);
  assert.equal(new DataView(out.buffer).getInt32(4, true), -2);
  assert.equal(encodeOutHeader(out, 9n, 0, 40), OUT_HEADER_SIZE + 40);
  assert.equal(new DataView(out.buffer).getBigUint64(8, true), 9n);
});

Deno.test("dirents are 8-byte aligned and stop at the size the kernel asked for", () => {
  assert.equal(direntSize(1), 32);
  assert.equal(direntSize(8), 32);
  assert.equal(direntSize(9), 40);
  const out = new Uint8Array(100).fill(0xaa);
  const name = new TextEncoder().encode("abc");
  const next = encodeDirent(out, 0, 64, { ino: 1n, nextOffset: 1n, type: 4, name });
  assert.equal(next, 32);
  assert.deepEqual([...out.subarray(24, 32)], [97, 98, 99, 0, 0, 0, 0, 0]);
  assert.equal(encodeDirent(out, 32, 64, { ino: 2n, nextOffset: 2n, type: 8, name }), 64);
  assert.equal(encodeDirent(out, 64, 90, { ino: 3n, nextOffset: 3n, type: 8, name }), -1);
});

Deno.test("SETATTR body: the fields sit where linux/fuse.h puts them", () => {
  const body = new Uint8Array(88);
  const dv = new DataView(body.buffer);
  dv.setUint32(0, Fattr.MODE | Fattr.MTIME, true);
  dv.setBigUint64(16, 123n, true);
  dv.setBigInt64(40, 1_600_000_000n, true);
  dv.setUint32(60, 500, true);
  dv.setUint32(68, 0o100640, true);
  dv.setUint32(76, 11, true);
  dv.setUint32(80, 22, true);
  const s = decodeSetattrIn(request(Op.SETATTR, body));
  assert.equal(s.valid, Fattr.MODE | Fattr.MTIME);
  assert.equal(s.size, 123n);
  assert.equal(s.mtime, 1_600_000_000n);
  assert.equal(s.mtimeNsec, 500);
  assert.equal(s.mode, 0o100640);
  assert.equal(s.uid, 11);
  assert.equal(s.gid, 22);
});

Deno.test("INIT: passthrough and the writeback cache are taken only when asked for, offered, and not together", () => {
  const body = new Uint8Array(64);
  const dv = new DataView(body.buffer);
  dv.setUint32(0, 7, true);
  dv.setUint32(4, 45, true);
  dv.setUint32(12, 0x73fffffb, true);
  dv.setUint32(16, 0x5fd, true);
  const kernel = decodeInitIn(request(Op.INIT, body));
  const plain = negotiateInit(kernel, 1 << 20, 32);
  assert.equal(plain.flags2, 0);
  assert.equal(plain.maxStackDepth, 0);
  const pt = negotiateInit(kernel, 1 << 20, 32, { passthrough: true });
  assert.equal(pt.flags2, InitFlag2.PASSTHROUGH);
  assert.equal(pt.maxStackDepth, 1);
  assert.equal(pt.minor, 40, "backing_id in fuse_open_out exists from 7.40");
  const out = new Uint8Array(OUT_HEADER_SIZE + 64);
  encodeInitOut(out, pt);
  const odv = new DataView(out.buffer);
  assert.equal(odv.getUint32(OUT_HEADER_SIZE + 32, true), InitFlag2.PASSTHROUGH);
  assert.equal(odv.getUint32(OUT_HEADER_SIZE + 36, true), 1);
  const wb = negotiateInit(kernel, 1 << 20, 32, { writebackCache: true });
  assert.ok(wb.flags & InitFlag.WRITEBACK_CACHE);
  const both = negotiateInit(kernel, 1 << 20, 32, { writebackCache: true, passthrough: true });
  assert.ok(both.flags & InitFlag.WRITEBACK_CACHE);
  assert.equal(both.flags2, 0, "the kernel refuses passthrough with the writeback cache");
  const old = negotiateInit({ ...kernel, minor: 38 }, 1 << 20, 32, { passthrough: true });
  assert.equal(old.flags2, 0, "a 7.38 kernel has no passthrough: fall back");
  const noOffer = negotiateInit({ ...kernel, flags2: 0 }, 1 << 20, 32, { passthrough: true });
  assert.equal(noOffer.flags2, 0);
});
