// The secondary's descriptor cache for consecutive writes: writes land where a fresh open would put them,
// at most 64 descriptors stay open, and clear() (run before any other op) closes them all.

import assert from "node:assert/strict";
import { OpenWriteFiles } from "../../src/rfs/open_write_files.ts";
import { openTreeRoot } from "../../src/rfs/beneath_root.ts";
import { TreeApplyError } from "../../src/rfs/apply_tree_op.ts";

const openFds = () => [...Deno.readDirSync("/proc/self/fd")].length;
const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("open write files: reused across writes, bounded, all closed by clear()", async () => {
  const dir = await Deno.makeTempDir();
  for (let i = 0; i < 80; i++) await Deno.writeTextFile(`${dir}/f${i}`, "");
  const root = openTreeRoot(dir);
  const cache = new OpenWriteFiles();
  try {
    const before = openFds();
    cache.write(root.fd, 0, { kind: "write", path: "f0", offset: 0, data: enc("hello") });
    cache.write(root.fd, 0, { kind: "write", path: "f0", offset: 5, data: enc(" world") });
    assert.equal(openFds(), before + 1);
    assert.equal(await Deno.readTextFile(`${dir}/f0`), "hello world");
    for (let i = 0; i < 80; i++) {
      cache.write(root.fd, 0, { kind: "write", path: `f${i}`, offset: 0, data: enc("x") });
    }
    assert.equal(openFds(), before + 64);
    // After a rename the cache must be cleared (the server does it before every op that is not a write).
    await Deno.rename(`${dir}/f1`, `${dir}/moved`);
    await Deno.writeTextFile(`${dir}/f1`, "");
    cache.clear();
    assert.equal(openFds(), before);
    cache.write(root.fd, 0, { kind: "write", path: "f1", offset: 0, data: enc("new") });
    assert.equal(await Deno.readTextFile(`${dir}/f1`), "new");
    assert.equal(await Deno.readTextFile(`${dir}/moved`), "x");
    assert.throws(
      () => cache.write(root.fd, 0, { kind: "write", path: "missing", offset: 0, data: enc("x") }),
      TreeApplyError,
    );
  } finally {
    cache.clear();
    root.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("open write files: writeAsync lands the bytes; a clear() meanwhile closes the descriptor only after", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/big`, "");
  const root = openTreeRoot(dir);
  const cache = new OpenWriteFiles();
  try {
    const before = openFds();
    const data = new Uint8Array(4 << 20).map((_, i) => i % 251);
    const writing = cache.writeAsync(root.fd, 0, { kind: "write", path: "big", offset: 4096, data });
    cache.clear(); // the session changed mode while the worker thread writes
    assert.equal(openFds(), before + 1, "the descriptor being written stays open");
    await writing;
    assert.equal(openFds(), before, "closed once the write ended");
    const got = await Deno.readFile(`${dir}/big`);
    assert.equal(got.length, 4096 + data.length);
    assert.deepEqual(got.subarray(4096), data);
    await assert.rejects(
      () => cache.writeAsync(root.fd, 0, { kind: "write", path: "missing", offset: 0, data }),
      TreeApplyError,
    );
  } finally {
    cache.clear();
    root.close();
    await Deno.remove(dir, { recursive: true });
  }
});
