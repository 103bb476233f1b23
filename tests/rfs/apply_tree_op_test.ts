import assert from "node:assert/strict";
import { applyTreeOp, pwriteAllAsync, TreeApplyError } from "../../src/rfs/apply_tree_op.ts";
import { sys } from "../../src/rfs/fuse/libc.ts";
import { openTreeRoot } from "../../src/rfs/beneath_root.ts";
import { TreePathError } from "../../src/rfs/tree_op.ts";

const enc = new TextEncoder();
const uid = Deno.uid() ?? 0, gid = Deno.gid() ?? 0;

Deno.test("applyTreeOp replays a sequence of changes on a tree", async () => {
  const dir = await Deno.makeTempDir();
  const root = openTreeRoot(dir);
  try {
    await applyTreeOp(root, { kind: "mkdir", path: "d", mode: 0o750, uid, gid });
    await applyTreeOp(root, {
      kind: "create",
      path: "d/f",
      mode: 0o600,
      uid,
      gid,
      exclusive: true,
      truncate: false,
    });
    await applyTreeOp(root, { kind: "write", path: "d/f", offset: 3, data: enc.encode("xyz") });
    await applyTreeOp(root, { kind: "symlink", path: "l", target: "d/f", uid, gid });
    await applyTreeOp(root, { kind: "link", path: "d/f", newPath: "hard" });
    await applyTreeOp(root, { kind: "rename", from: "d/f", to: "g", flags: 0 });
    await applyTreeOp(root, { kind: "fallocate", path: "g", mode: 0, offset: 0, length: 10 });
    await applyTreeOp(root, {
      kind: "setattr",
      path: "g",
      mode: 0o644,
      mtime: { sec: 1_000_000_000, nsec: 5 },
    });
    await applyTreeOp(root, { kind: "fsync", path: "g", datasync: false });
    await applyTreeOp(root, { kind: "mknod", path: "fifo", mode: 0o10640, rdev: 0, uid, gid });
    assert.deepEqual(await Deno.readFile(`${dir}/g`), Uint8Array.of(0, 0, 0, 120, 121, 122, 0, 0, 0, 0));
    const st = await Deno.lstat(`${dir}/g`);
    assert.equal(st.mode! & 0o7777, 0o644);
    assert.equal(st.mtime!.getTime(), 1_000_000_000_000);
    assert.equal(st.nlink, 2);
    assert.equal((await Deno.lstat(`${dir}/d`)).mode! & 0o7777, 0o750, "mode is exact, whatever the umask");
    assert.equal(await Deno.readLink(`${dir}/l`), "d/f");
    assert.ok((await Deno.lstat(`${dir}/fifo`)).isFifo);
    await applyTreeOp(root, { kind: "setattr", path: "g", size: 1 });
    assert.equal((await Deno.lstat(`${dir}/g`)).size, 1);
    await applyTreeOp(root, { kind: "unlink", path: "g" });
    await applyTreeOp(root, { kind: "rmdir", path: "d" });
    assert.deepEqual((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort(), [
      "fifo",
      "hard",
      "l",
    ]);
  } finally {
    root.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("applyTreeOp refuses paths that would leave the root, even through a planted symlink", async () => {
  const dir = await Deno.makeTempDir();
  const outside = await Deno.makeTempDir();
  await Deno.writeFile(`${outside}/victim`, enc.encode("keep"));
  await Deno.symlink(outside, `${dir}/escape`);
  try {
    await assert.rejects(applyTreeOp(dir, { kind: "unlink", path: "../victim" }), TreePathError);
    await assert.rejects(applyTreeOp(dir, { kind: "unlink", path: "/etc/passwd" }), /absolute/);
    for (
      const op of [
        { kind: "write", path: "escape/victim", offset: 0, data: enc.encode("evil") },
        { kind: "unlink", path: "escape/victim" },
        { kind: "create", path: "escape/new", mode: 0o644, uid, gid, exclusive: false, truncate: false },
      ] as const
    ) {
      await assert.rejects(
        applyTreeOp(dir, op),
        (e) => e instanceof TreeApplyError && /ELOOP|EXDEV/.test(e.message),
        op.kind,
      );
    }
    assert.equal(await Deno.readTextFile(`${outside}/victim`), "keep");
    assert.deepEqual((await Array.fromAsync(Deno.readDir(outside))).map((e) => e.name), ["victim"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("applyTreeOp reports the failing step and errno", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      applyTreeOp(dir, { kind: "rmdir", path: "missing" }),
      /cannot apply rmdir to "missing": rmdir failed with ENOENT/,
    );
    await Deno.writeTextFile(`${dir}/a`, "");
    await assert.rejects(
      applyTreeOp(dir, { kind: "rename", from: "a", to: "a", flags: 1 }),
      /renameat2 failed with EEXIST/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pwriteAllAsync writes on a worker thread and still reports the errno of a failure", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = new Uint8Array(1 << 20).fill(7);
    assert.equal(await pwriteAllAsync(1_000_000, data, 10), -9, "EBADF: no such descriptor");
    const fd = sys.open(new TextEncoder().encode(`${dir}/f\0`), 0o101, /* O_WRONLY|O_CREAT */ 0o644);
    assert.ok(fd >= 0);
    try {
      assert.equal(await pwriteAllAsync(fd, data, 10), data.length);
    } finally {
      sys.close(fd);
    }
    const got = await Deno.readFile(`${dir}/f`);
    assert.equal(got.length, 10 + data.length);
    assert.ok(got.subarray(10).every((b) => b === 7));
    const ro = sys.open(new TextEncoder().encode(`${dir}/f\0`), 0, /* O_RDONLY */ 0);
    try {
      assert.equal(await pwriteAllAsync(ro, data, 0), -9, "EBADF: not open for writing");
    } finally {
      sys.close(ro);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
