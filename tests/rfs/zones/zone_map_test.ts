import assert from "node:assert/strict";
import { ZoneMap } from "../../../src/rfs/zones/zone_map.ts";
import { countZones, rangesToCopy } from "../../../src/rfs/zones/zone_math.ts";

const Z = 4096;
const write = (path: string, offset: number, length: number) =>
  ({ kind: "write", path, offset, data: new Uint8Array(length) }) as const;

Deno.test("writes and fallocate mark only the zones they touch, per file", () => {
  const m = new ZoneMap(Z);
  m.note(write("d/a", 0, 10));
  m.note(write("d/a", 5 * Z, Z + 1));
  m.note({ kind: "fallocate", path: "d/b", mode: 0, offset: 2 * Z, length: Z });
  assert.deepEqual(rangesToCopy(m.lookup("d/a")!.bits, null, Z, 10 * Z), [
    { offset: 0, length: Z },
    { offset: 5 * Z, length: 2 * Z },
  ]);
  assert.equal(countZones(m.lookup("d/b")!.bits), 1);
  assert.deepEqual([...m.childrenOf("d").keys()].sort(), ["a", "b"]);
  assert.equal(m.lookup("d/c"), undefined);
});

Deno.test("a truncation keeps the lowest size the file had", () => {
  const m = new ZoneMap(Z);
  m.note({ kind: "setattr", path: "f", size: 9000 });
  m.note({ kind: "setattr", path: "f", size: 100 });
  m.note({ kind: "setattr", path: "f", size: 50_000 });
  assert.equal(m.lookup("f")!.tailFrom, 100);
});

Deno.test("metadata changes record the entry without zones", () => {
  const m = new ZoneMap(Z);
  m.note({ kind: "setattr", path: "f", mode: 0o600 });
  m.note({ kind: "setxattr", path: "g", name: "user.x", value: new Uint8Array(1), flags: 0 });
  assert.deepEqual([m.lookup("f")!.whole, countZones(m.lookup("f")!.bits)], [false, 0]);
  assert.ok(m.lookup("g"));
});

Deno.test("creates, links and unlinks make the name whole; later writes keep it whole", () => {
  const m = new ZoneMap(Z);
  m.note({ kind: "create", path: "n", mode: 0o644, uid: 0, gid: 0, exclusive: true, truncate: false });
  m.note(write("n", 0, 10));
  m.note({ kind: "link", path: "a", newPath: "b" });
  assert.ok(m.lookup("n")!.whole && m.lookup("a")!.whole && m.lookup("b")!.whole);
  assert.equal(m.lookup("n")!.bits.length, 0);
});

Deno.test("renames and directory changes make everything below both names whole", () => {
  const m = new ZoneMap(Z);
  m.note({ kind: "rename", from: "x/old", to: "y/new", flags: 0 });
  m.note({ kind: "mkdir", path: "fresh", mode: 0o755, uid: 0, gid: 0 });
  for (const d of ["x/old", "x/old/deep/er", "y/new", "y/new/a", "fresh/sub"]) assert.ok(m.isWholeDir(d), d);
  for (const d of [".", "x", "y", "x/older", "fres"]) assert.ok(!m.isWholeDir(d), d);
});

Deno.test("every change bumps the file's change counter", () => {
  const m = new ZoneMap(Z);
  m.note(write("f", 0, 1));
  const c1 = m.lookup("f")!.changes;
  m.note(write("f", 0, 1));
  assert.ok(m.lookup("f")!.changes > c1);
});

Deno.test("merge adds zones, truncation points and whole flags of another map", () => {
  const a = new ZoneMap(Z), b = new ZoneMap(Z);
  a.note(write("f", 0, 1));
  b.note(write("f", 40 * Z, 1));
  b.note({ kind: "setattr", path: "f", size: 7 });
  b.note({ kind: "create", path: "g", mode: 0o644, uid: 0, gid: 0, exclusive: true, truncate: false });
  b.note({ kind: "rmdir", path: "gone" });
  a.merge(b);
  assert.equal(countZones(a.lookup("f")!.bits), 2);
  assert.equal(a.lookup("f")!.tailFrom, 7);
  assert.ok(a.lookup("g")!.whole);
  assert.ok(a.isWholeDir("gone/x"));
});

Deno.test("a zone size below 4096 is refused", () => {
  assert.throws(() => new ZoneMap(1000), /ruzone_blocksize/);
});
