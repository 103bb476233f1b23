// PassthroughFs driven with hand-built requests (no mount needed): the replies and sink behaviour that a
// shell workload cannot provoke on demand.
import assert from "node:assert/strict";
import { openTreeRoot } from "../../../src/rfs/beneath_root.ts";
import { Fattr, IN_HEADER_SIZE, Op, OUT_HEADER_SIZE } from "../../../src/rfs/fuse/fuse_abi.ts";
import { PassthroughFs } from "../../../src/rfs/fuse/passthrough_fs.ts";
import type { FuseRequest } from "../../../src/rfs/fuse/fuse_session.ts";
import type { TreeOp } from "../../../src/rfs/tree_op.ts";

function request(opcode: number, nodeid: number, body: Uint8Array): FuseRequest {
  const buf = new Uint8Array(IN_HEADER_SIZE + body.length);
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, buf.length, true);
  dv.setUint32(4, opcode, true);
  dv.setBigUint64(8, 1n, true);
  dv.setBigUint64(16, BigInt(nodeid), true);
  dv.setUint32(24, Deno.uid() ?? 0, true);
  dv.setUint32(28, Deno.gid() ?? 0, true);
  buf.set(body, IN_HEADER_SIZE);
  return {
    header: {
      len: buf.length,
      opcode,
      unique: 1n,
      nodeid: BigInt(nodeid),
      uid: Deno.uid() ?? 0,
      gid: Deno.gid() ?? 0,
      pid: 1,
    },
    buf,
    out: new Uint8Array(OUT_HEADER_SIZE + 65536),
  };
}

function mkdirBody(name: string, mode: number): Uint8Array {
  const n = new TextEncoder().encode(name + "\0");
  const b = new Uint8Array(8 + n.length);
  new DataView(b.buffer).setUint32(0, mode, true);
  b.set(n, 8);
  return b;
}

Deno.test("passthrough: an opcode it does not implement gets ENOSYS", async () => {
  const dir = await Deno.makeTempDir();
  const root = openTreeRoot(dir);
  try {
    const fs = new PassthroughFs({ rootFd: root.fd });
    assert.equal(await fs.handle(request(99, 1, new Uint8Array(0))), -38);
    assert.equal(
      await fs.handle(request(Op.FLUSH, 1, new Uint8Array(24))),
      -38,
      "FLUSH is declined on purpose",
    );
  } finally {
    root.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("passthrough: the reply waits for the sink; a failing sink gives EIO and keeps the local change", async () => {
  const dir = await Deno.makeTempDir();
  const root = openTreeRoot(dir);
  try {
    const seen: TreeOp[] = [];
    let release!: () => void;
    const fs = new PassthroughFs({
      rootFd: root.fd,
      sink: {
        apply(op) {
          seen.push(op);
          if (op.kind === "mkdir" && op.path === "bad") return Promise.reject(new Error("secondary gone"));
          return new Promise((r) => (release = r));
        },
      },
    });
    let answered = false;
    const pending = Promise.resolve(fs.handle(request(Op.MKDIR, 1, mkdirBody("good", 0o750)))).then((r) => {
      answered = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(answered, false, "no reply before the sink settles");
    assert.ok((await Deno.stat(`${dir}/good`)).isDirectory, "applied locally before the sink is asked");
    release();
    assert.equal(await pending, 128, "an entry reply (fuse_entry_out)");
    assert.equal(await fs.handle(request(Op.MKDIR, 1, mkdirBody("bad", 0o700))), -5);
    assert.ok((await Deno.stat(`${dir}/bad`)).isDirectory);
    assert.deepEqual(seen.map((o) => o.kind === "mkdir" && [o.path, o.mode]), [["good", 0o750], [
      "bad",
      0o700,
    ]]);
    assert.equal(fs.stats.sinkFailures, 1);
  } finally {
    root.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("passthrough: a name that is not UTF-8 is refused (it could not be replicated faithfully)", async () => {
  const dir = await Deno.makeTempDir();
  const root = openTreeRoot(dir);
  try {
    const fs = new PassthroughFs({ rootFd: root.fd });
    const body = mkdirBody("x", 0o755);
    body[8] = 0xff;
    assert.equal(await fs.handle(request(Op.MKDIR, 1, body)), -84);
  } finally {
    root.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** Looks up `name` under the root and opens it read-write: [node, fh]. */
async function openRw(fs: PassthroughFs, name: string): Promise<[number, bigint]> {
  const lookup = request(Op.LOOKUP, 1, new TextEncoder().encode(`${name}\0`));
  assert.ok(Number(await fs.handle(lookup)) > 0);
  const node = Number(new DataView(lookup.out.buffer).getBigUint64(OUT_HEADER_SIZE, true));
  const obody = new Uint8Array(8);
  new DataView(obody.buffer).setUint32(0, 2, /* O_RDWR */ true);
  const open = request(Op.OPEN, node, obody);
  assert.ok(Number(await fs.handle(open)) >= 0);
  return [node, new DataView(open.out.buffer).getBigUint64(OUT_HEADER_SIZE, true)];
}

async function release(fs: PassthroughFs, node: number, fh: bigint): Promise<void> {
  const req = request(Op.RELEASE, node, new Uint8Array(24));
  new DataView(req.buf.buffer).setBigUint64(IN_HEADER_SIZE, fh, true);
  await fs.handle(req);
}

/** A WRITE request (fuse_write_in: fh, offset, size, write_flags, lock_owner, flags, padding) of `size` x `fill`. */
function writeRequest(node: number, fh: bigint, offset: number, size: number, fill: number): FuseRequest {
  const body = new Uint8Array(40 + size).fill(fill, 40);
  const v = new DataView(body.buffer);
  v.setBigUint64(0, fh, true);
  v.setBigUint64(8, BigInt(offset), true);
  v.setUint32(16, size, true);
  return request(Op.WRITE, node, body);
}

Deno.test("passthrough: a large write that arrives while another is copied is sent at once, and copied after it", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/f`, new Uint8Array(0));
  const root = openTreeRoot(dir);
  try {
    const seen: [number, number][] = [];
    const fs = new PassthroughFs({
      rootFd: root.fd,
      sink: {
        apply: (op) => (op.kind === "write" && seen.push([op.offset, op.data.length]), Promise.resolve()),
      },
    });
    const [node, fh] = await openRw(fs, "f");
    // 16 MiB of 1s, then 64 KiB of 2s over the end of the same range. The second copy is queued behind the
    // first (queuedLocalWrites); the content check is a sanity check only: the kernel's inode lock usually
    // orders two writes to one file anyway, but only when the first one's thread takes it first.
    const first = fs.handle(writeRequest(node, fh, 0, 16 << 20, 1));
    const at = (16 << 20) - (64 << 10) - 4096;
    const second = fs.handle(writeRequest(node, fh, at, 64 << 10, 2));
    assert.deepEqual(seen, [[0, 16 << 20], [at, 64 << 10]], "both sent before either copy ended");
    assert.deepEqual(await Promise.all([first, second]), [8, 8]);
    assert.equal(fs.stats.queuedLocalWrites, 1);
    assert.equal(fs.stats.gatedRequests, 0);
    const data = await Deno.readFile(`${dir}/f`);
    assert.equal(data.length, 16 << 20);
    assert.equal(data[at - 1], 1);
    assert.ok(data.subarray(at, at + (64 << 10)).every((b) => b === 2), "the second write is on top");
    assert.equal(data[at + (64 << 10)], 1);
    await release(fs, node, fh);
  } finally {
    root.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("passthrough: a change that arrives while a large write is copied on a worker thread waits for it", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/f`, new Uint8Array(0));
  const root = openTreeRoot(dir);
  try {
    const seen: string[] = [];
    const fs = new PassthroughFs({
      rootFd: root.fd,
      sink: { apply: (op) => (seen.push(op.kind), Promise.resolve()) },
    });
    const [node, fh] = await openRw(fs, "f");
    const write = writeRequest(node, fh, 0, 16 << 20, 7);
    // SETATTR size 1000 through the same node, dispatched while the write's copy is still running.
    const sbody = new Uint8Array(88);
    const sv = new DataView(sbody.buffer);
    sv.setUint32(0, Fattr.SIZE | Fattr.FH, true);
    sv.setBigUint64(8, fh, true);
    sv.setBigUint64(16, 1000n, true);
    const setattr = request(Op.SETATTR, node, sbody);
    const results = await Promise.all([fs.handle(write), fs.handle(setattr)]);
    assert.equal(results[0], 8);
    assert.ok(Number(results[1]) > 0);
    assert.equal(fs.stats.overlappedWrites, 1);
    assert.equal(fs.stats.gatedRequests, 1);
    assert.deepEqual(seen, ["write", "setattr"], "the stream order");
    assert.equal((await Deno.stat(`${dir}/f`)).size, 1000, "applied locally in the stream's order");
    await release(fs, node, fh);
  } finally {
    root.close();
    await Deno.remove(dir, { recursive: true });
  }
});
