// FUSE passthrough of reads on a real mount: read-only opens are served by the kernel from the backing
// file (no READ reaches the server), writes still reach the sink in every combination of opens, and a
// shared writable mapping can never write to the backing file behind the server's back.
//
// The FUSE server runs in this process: the mount is touched only through subprocesses (python3).

import assert from "node:assert/strict";
import { mountReplicatedDir } from "../../../src/rfs/fuse/mod.ts";
import { Op } from "../../../src/rfs/fuse/fuse_abi.ts";
import type { TreeOp } from "../../../src/rfs/tree_op.ts";
import { skipUnless } from "../../support/privileges.ts";

const ignore = skipUnless({ root: true, devices: ["/dev/fuse"] }) !== null;

async function py(script: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("python3", { args: ["-c", script, ...args] }).output();
  const dec = new TextDecoder();
  if (!out.success) throw new Error(`python3 failed: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout).trim();
}

async function withMount(
  fn: (
    mnt: string,
    ops: TreeOp[],
    reads: () => number,
    m: Awaited<ReturnType<typeof mountReplicatedDir>>,
  ) => Promise<void>,
  opts: { passthrough?: boolean } = {},
) {
  const base = await Deno.makeTempDir({ prefix: "safekit-pt-" });
  const mnt = `${base}/mnt`;
  await Deno.mkdir(mnt);
  await Deno.writeTextFile(`${mnt}/data`, "0123456789".repeat(1000));
  const ops: TreeOp[] = [];
  let readRequests = 0;
  const m = await mountReplicatedDir(mnt, {
    ...opts,
    sink: {
      apply: (op) => {
        ops.push(op.kind === "write" ? { ...op, data: op.data.slice() } : op);
        return Promise.resolve();
      },
    },
    onReply: (h) => {
      if (h.opcode === Op.READ) readRequests++;
    },
  });
  try {
    await fn(mnt, ops, () => readRequests, m);
  } finally {
    await m.unmount();
    await Deno.remove(base, { recursive: true });
  }
}

Deno.test({
  name: "read passthrough: a read-only open is served by the kernel, no READ reaches the server",
  ignore,
  fn: () =>
    withMount(async (mnt, _ops, reads, m) => {
      if (!m.session.stats.passthrough) {
        console.log("kernel without FUSE passthrough: checking the fallback only");
      }
      const got = await py("import sys; print(len(open(sys.argv[1], 'rb').read()))", `${mnt}/data`);
      assert.equal(got, "10000");
      if (m.session.stats.passthrough) {
        assert.equal(reads(), 0);
        assert.equal(m.fs.passthroughStats.passthroughOpens, 1);
      } else assert.ok(reads() > 0);
    }),
});

Deno.test({
  name: "read passthrough: off on request, reads come to the server",
  ignore,
  fn: () =>
    withMount(async (mnt, _ops, reads, m) => {
      assert.equal(m.session.stats.passthrough, false);
      await py("import sys; open(sys.argv[1], 'rb').read()", `${mnt}/data`);
      assert.ok(reads() > 0);
    }, { passthrough: false }),
});

Deno.test({
  name:
    "read passthrough: writes while a reader has the file open still reach the sink and the reader sees them",
  ignore,
  fn: () =>
    withMount(async (mnt, ops) => {
      const out = await py(
        `import os, sys
p = sys.argv[1]
r = os.open(p, os.O_RDONLY)          # passthrough reader first
w = os.open(p, os.O_WRONLY)          # then a writer: served with DIRECT_IO
os.pwrite(w, b"ABCD", 100)
print(os.pread(r, 4, 100).decode())
w2 = os.open(p, os.O_RDWR)
os.pwrite(w2, b"WXYZ", 200)
print(os.pread(r, 4, 200).decode())
for fd in (r, w, w2): os.close(fd)`,
        `${mnt}/data`,
      );
      assert.deepEqual(out.split("\n"), ["ABCD", "WXYZ"]);
      const writes = ops.filter((o) => o.kind === "write").map((o) =>
        o.kind === "write" && [o.offset, new TextDecoder().decode(o.data)]
      );
      assert.deepEqual(writes, [[100, "ABCD"], [200, "WXYZ"]]);
    }),
});

Deno.test({
  name:
    "read passthrough: what a shared writable mmap writes reaches the sink, with or without a passthrough reader",
  ignore,
  fn: () =>
    withMount(async (mnt, ops, _reads, m) => {
      // With a passthrough reader open, the writer's handle must carry FOPEN_PASSTHROUGH and its mapping
      // maps the backing file: the server replicates the file at the handle's fsync/release instead.
      await py(
        `import os, sys, mmap
p = sys.argv[1]
r = os.open(p, os.O_RDONLY)
w = os.open(p, os.O_RDWR)
m = mmap.mmap(w, 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
m[0:4] = b"MMAP"; m.flush(); m.close()
os.close(w); os.close(r)
w = os.open(p, os.O_RDWR)
m = mmap.mmap(w, 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
m[8:12] = b"PAGE"; m.flush(); m.close(); os.close(w)`,
        `${mnt}/data`,
      );
      const written = () =>
        ops.map((o) => o.kind === "write" ? new TextDecoder().decode(o.data) : "").join("|");
      // RELEASE reaches the server after close(2) returned: wait for it.
      for (let i = 0; i < 100 && !(written().includes("MMAP") && written().includes("PAGE")); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(
        written().includes("MMAP"),
        "the write through the mapping with a reader open reached the sink",
      );
      assert.ok(written().includes("PAGE"), "the write through the mapping reached the sink");
      if (m.session.stats.passthrough) assert.ok(m.fs.stats.reconciledFiles >= 1);
      const disk = await Deno.readTextFile(`${mnt}/data`);
      assert.equal(disk.slice(0, 12), "MMAP4567PAGE");
    }),
});

Deno.test({
  name:
    "read passthrough: an fsync of a writer opened after a passthrough reader replicates its mapped writes first",
  ignore,
  fn: () =>
    withMount(async (mnt, ops) => {
      let fsyncSeenAfterMmap = false;
      const out = await py(
        `import os, sys, mmap
p = sys.argv[1]
r = os.open(p, os.O_RDONLY)
w = os.open(p, os.O_RDWR)
m = mmap.mmap(w, 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
m[20:24] = b"SYNC"
os.fsync(w)
print("synced")
m.close(); os.close(w); os.close(r)`,
        `${mnt}/data`,
      );
      assert.equal(out, "synced");
      const iSync = ops.findIndex((o) => o.kind === "fsync");
      const iData = ops.findIndex((o) =>
        o.kind === "write" && new TextDecoder().decode(o.data).includes("SYNC")
      );
      fsyncSeenAfterMmap = iData >= 0 && iSync > iData;
      assert.ok(fsyncSeenAfterMmap, "the mapped data reached the sink before the fsync was acknowledged");
    }),
});
