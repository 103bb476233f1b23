// The kernel's writeback cache as an explicit mount option: write(2) returns from the page cache, and
// fsync(2) and close(2) are the replication boundaries (every byte written before them reached the sink
// before they returned). Real mounts; the mount is touched only through python3 subprocesses.

import assert from "node:assert/strict";
import { mountReplicatedDir } from "../../../src/rfs/fuse/mod.ts";
import type { TreeOp } from "../../../src/rfs/tree_op.ts";
import { skipUnless } from "../../support/privileges.ts";

const ignore = skipUnless({ root: true, devices: ["/dev/fuse"] }) !== null;

/** Runs python3 with a pipe per line of output, so the test can look at the sink between steps. */
async function withMount(
  fn: (mnt: string, ops: TreeOp[], wb: boolean) => Promise<void>,
  writebackCache = true,
) {
  const base = await Deno.makeTempDir({ prefix: "safekit-wb-" });
  const mnt = `${base}/mnt`;
  await Deno.mkdir(mnt);
  const ops: TreeOp[] = [];
  const m = await mountReplicatedDir(mnt, {
    writebackCache,
    sink: {
      apply: (op) => {
        ops.push(op.kind === "write" ? { ...op, data: op.data.slice() } : op);
        return Promise.resolve();
      },
    },
  });
  try {
    await fn(mnt, ops, m.session.stats.writebackCache);
  } finally {
    await m.unmount();
    await Deno.remove(base, { recursive: true });
  }
}

/** How far the writes sent for `path` reach (the kernel writes back whole pages, possibly twice). */
const bytesSent = (ops: TreeOp[], path: string) =>
  ops.reduce((n, o) => Math.max(n, o.kind === "write" && o.path === path ? o.offset + o.data.length : 0), 0);

/** A python3 process that runs one step per line it reads, answering "done" after each. */
function stepper(script: string) {
  const child = new Deno.Command("python3", { args: ["-u", "-c", script], stdin: "piped", stdout: "piped" })
    .spawn();
  const w = child.stdin.getWriter(), r = child.stdout.getReader();
  let buf = "";
  return {
    async step(line: string): Promise<string> {
      await w.write(new TextEncoder().encode(line + "\n"));
      while (!buf.includes("\n")) {
        const { value, done } = await r.read();
        if (done) throw new Error("python3 ended");
        buf += new TextDecoder().decode(value);
      }
      const i = buf.indexOf("\n");
      const out = buf.slice(0, i);
      buf = buf.slice(i + 1);
      return out;
    },
    async close() {
      await w.close();
      r.releaseLock();
      await child.stdout.cancel();
      await child.status;
    },
  };
}

const SCRIPT = `import os, sys
fd = None
for line in sys.stdin:
    cmd, _, arg = line.strip().partition(" ")
    if cmd == "open": fd = os.open(arg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    elif cmd == "write": os.write(fd, b"w" * int(arg))
    elif cmd == "fsync": os.fsync(fd)
    elif cmd == "close": os.close(fd)
    print("done", flush=True)`;

Deno.test({
  name: "writeback cache: negotiated only when asked for",
  ignore,
  fn: async () => {
    await withMount((_m, _o, wb) => Promise.resolve(assert.equal(wb, true)));
    await withMount((_m, _o, wb) => Promise.resolve(assert.equal(wb, false)), false);
  },
});

Deno.test({
  name:
    "writeback cache: every byte written before fsync(2) reached the sink before fsync returned, then the fsync",
  ignore,
  fn: () =>
    withMount(async (mnt, ops) => {
      const p = stepper(SCRIPT);
      try {
        await p.step(`open ${mnt}/f`);
        for (let i = 0; i < 8; i++) await p.step("write 100000");
        await p.step("fsync");
        assert.equal(bytesSent(ops, "f"), 800000);
        assert.equal(ops.at(-1)?.kind, "fsync");
        await p.step("write 5000");
        await p.step("close");
        assert.equal(bytesSent(ops, "f"), 805000, "close(2) writes the dirty pages back before returning");
      } finally {
        await p.close();
      }
      assert.equal((await Deno.stat(`${mnt}/f`)).size, 805000);
    }),
});

Deno.test({
  name: "writeback cache: write(2) returns before the sink has the data (what the option trades away)",
  ignore,
  fn: () =>
    withMount(async (mnt, ops) => {
      const p = stepper(SCRIPT);
      try {
        await p.step(`open ${mnt}/g`);
        await p.step("write 4096");
        // The kernel keeps the page dirty for up to dirty_writeback_centisecs: nothing was sent yet.
        assert.equal(bytesSent(ops, "g"), 0);
        await p.step("close");
        assert.equal(bytesSent(ops, "g"), 4096);
      } finally {
        await p.close();
      }
    }),
});
