// rfsdiff's arithmetic: zones of modified files (clipped to the file), truncated tails, entries copied
// whole, new directories counted once with their content, removed files ignored.
import assert from "node:assert/strict";
import { ZoneMap } from "../../../src/rfs/zones/zone_map.ts";
import { estimateSeconds, summarizeZoneMap } from "../../../src/rfs/zones/zone_summary.ts";
import type { TreeOp } from "../../../src/rfs/tree_op.ts";

const Z = 4096;
const write = (path: string, offset: number, n: number) =>
  ({ kind: "write", path, offset, data: new Uint8Array(n) }) as unknown as TreeOp;

Deno.test("summarizeZoneMap: zones, tails, whole entries and new directories", () => {
  const map = new ZoneMap(Z);
  map.note(write("big", 0, 10)); // zone 0
  map.note(write("big", 5 * Z + 1, 10)); // zone 5
  map.note({ kind: "setattr", path: "shrunk", size: 3 * Z + 7 } as unknown as TreeOp); // tail from zone 3
  map.note({ kind: "create", path: "new.txt", mode: 0o644 } as unknown as TreeOp);
  map.note({ kind: "mkdir", path: "newdir", mode: 0o755 } as unknown as TreeOp);
  map.note({ kind: "create", path: "newdir/inside", mode: 0o644 } as unknown as TreeOp);
  map.note(write("gone", 0, 1));
  const sizes: Record<string, number | null> = {
    big: 5 * Z + 100, // zone 5 holds only 100 bytes
    shrunk: 6 * Z,
    "new.txt": 1000,
    "newdir/inside": 50,
    gone: null,
  };
  const s = summarizeZoneMap(map, 1234, {
    fileSize: (p) => sizes[p] ?? null,
    dirSize: (p) => (assert.equal(p, "newdir"), { bytes: 777, files: 1 }),
  });
  assert.equal(s.basis, "zones");
  assert.equal(s.sinceMs, 1234);
  assert.equal(s.zoneFiles, 2, "big and shrunk");
  assert.equal(s.wholeEntries, 1, "new.txt (newdir/inside counts with its directory)");
  assert.equal(s.wholeDirs, 1);
  assert.equal(s.bytes, (Z + 100) + 3 * Z + 1000 + 777);
});

Deno.test("estimateSeconds rounds up and never divides by zero", () => {
  assert.equal(estimateSeconds(0, 100), 0);
  assert.equal(estimateSeconds(101, 100), 2);
  assert.equal(estimateSeconds(5, 0), 0);
});
