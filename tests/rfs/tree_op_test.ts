import assert from "node:assert/strict";
import {
  decodeTreeOp,
  encodeTreeOp,
  TREE_LIMITS,
  type TreeOp,
  TreeOpDecodeError,
  TreePathError,
  validateTreePath,
} from "../../src/rfs/tree_op.ts";

const samples: TreeOp[] = [
  { kind: "write", path: "dir/file", offset: 2 ** 40, data: new Uint8Array([1, 2, 3]) },
  { kind: "create", path: "f", mode: 0o100640, uid: 1000, gid: 50, exclusive: true, truncate: false },
  { kind: "mkdir", path: "d/é", mode: 0o2755, uid: 0, gid: 0 },
  { kind: "mknod", path: "fifo", mode: 0o10644, rdev: 0, uid: 1, gid: 2 },
  { kind: "symlink", path: "l", target: "/absolute/targets/are/content", uid: 3, gid: 4 },
  { kind: "link", path: "a", newPath: "b/c" },
  { kind: "unlink", path: "a" },
  { kind: "rmdir", path: "d" },
  { kind: "rename", from: "a", to: "b", flags: 2 },
  { kind: "setattr", path: "." },
  {
    kind: "setattr",
    path: "x",
    mode: 0o4755,
    uid: 7,
    gid: 8,
    size: 0,
    atime: { sec: -1, nsec: 5 },
    mtime: { sec: 1e9, nsec: 999_999_999 },
  },
  { kind: "setattr", path: "x", mtime: { sec: 1, nsec: 0 } },
  { kind: "fallocate", path: "x", mode: 1, offset: 4096, length: 8192 },
  { kind: "setxattr", path: "x", name: "user.k", value: new Uint8Array([0, 255]), flags: 1 },
  { kind: "removexattr", path: ".", name: "user.k" },
  { kind: "fsync", path: "x", datasync: true },
];

for (const op of samples) {
  Deno.test(`tree op codec: ${op.kind} ${JSON.stringify("path" in op ? op.path : op.from)} survives a round trip`, () => {
    assert.deepEqual(decodeTreeOp(encodeTreeOp(op)), op);
  });
}

const badPaths: [string, RegExp][] = [
  ["", /empty/],
  ["/etc/passwd", /absolute/],
  ["../x", /"\.\."/],
  ["a/../../x", /"\.\."/],
  ["a/./b", /"\."/],
  ["a//b", /empty component/],
  ["a/", /empty component/],
  ["a\0b", /NUL/],
  ["x".repeat(256), /longer than 255/],
  [("d/").repeat(2100) + "f", /longer than 4096/],
];
for (const [path, why] of badPaths) {
  Deno.test(`tree path ${JSON.stringify(path.slice(0, 20))} is rejected with a precise error`, () => {
    assert.throws(
      () => validateTreePath(path, true),
      (e) => e instanceof TreePathError && why.test(e.message),
    );
  });
}

Deno.test("tree path: the root is accepted only where an op may target it", () => {
  validateTreePath(".", true);
  assert.throws(() => validateTreePath(".", false), /root itself/);
  assert.throws(() => encodeTreeOp({ kind: "unlink", path: "." }), TreePathError);
  assert.throws(() => encodeTreeOp({ kind: "rename", from: "a", to: "../b", flags: 0 }), TreePathError);
});

function withByte(bytes: Uint8Array, at: number, v: number): Uint8Array {
  const c = bytes.slice();
  c[at] = v;
  return c;
}

Deno.test("tree op decoder rejects malformed input instead of guessing", () => {
  const good = encodeTreeOp({ kind: "unlink", path: "ab" }); // version, kind, u16 length, "ab"
  const dotdot = withByte(withByte(good, 4, 0x2e), 5, 0x2e);
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array(0), /truncated/],
    [withByte(good, 0, 9), /wire version 9/],
    [withByte(good, 1, 200), /unknown kind code 200/],
    [good.subarray(0, good.length - 1), /truncated/],
    [Uint8Array.of(...good, 0), /trailing/],
    [dotdot, /"\.\."/],
    [withByte(good, 5, 0xff), /UTF-8/],
    [withByte(good, 4, 0), /NUL/],
  ];
  for (const [bytes, why] of cases) {
    assert.throws(
      () => decodeTreeOp(bytes),
      (e) => e instanceof TreeOpDecodeError && why.test(e.message),
      String(why),
    );
  }
});

Deno.test("tree op decoder bounds lengths before reading them", () => {
  const write = encodeTreeOp({ kind: "write", path: "f", offset: 0, data: new Uint8Array(4) });
  // data length field sits after version, kind, u16+1 path, u64 offset.
  const dv = new DataView(write.buffer);
  dv.setUint32(2 + 2 + 1 + 8, TREE_LIMITS.dataBytes + 1, true);
  assert.throws(() => decodeTreeOp(write), /exceed the limit/);
  const huge = encodeTreeOp({ kind: "write", path: "f", offset: 0, data: new Uint8Array(4) });
  new DataView(huge.buffer).setBigUint64(5, 2n ** 60n, true);
  assert.throws(() => decodeTreeOp(huge), /above 2\^53/);
  assert.throws(
    () =>
      encodeTreeOp({ kind: "setxattr", path: "f", name: "user.v", value: new Uint8Array(65537), flags: 0 }),
    /longer than 65536/,
  );
  assert.throws(() => encodeTreeOp({ kind: "rename", from: "a", to: "b", flags: 3 }), /cannot be combined/);
});
