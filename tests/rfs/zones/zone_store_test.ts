import assert from "node:assert/strict";
import { join } from "node:path";
import { ZoneTracker } from "../../../src/rfs/zones/zone_tracker.ts";
import { loadZoneState } from "../../../src/rfs/zones/zone_store.ts";
import { decodeZoneAnswer } from "../../../src/rfs/zones/zone_query.ts";
import { countZones } from "../../../src/rfs/zones/zone_math.ts";

const Z = 65536;
const write = (path: string, offset: number) =>
  ({ kind: "write", path, offset, data: new Uint8Array(10) }) as const;

async function withDir(fn: (dir: string) => void | Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "safekit-zones-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a map written at a clean stop is read back whole and trusted", () =>
  withDir((dir) => {
    const file = join(dir, "zones.json");
    const t = ZoneTracker.start(file, Z);
    t.note(write("a/f", 3 * Z), false, 0);
    t.note({ kind: "rename", from: "old", to: "new", flags: 0 }, false, 0);
    t.close();
    const s = loadZoneState(file, Z);
    assert.equal(s.trusted, true);
    assert.equal(s.mapId, t.state.mapId);
    assert.equal(countZones(s.map.lookup("a/f")!.bits), 1);
    assert.ok(s.map.isWholeDir("new/x"));
  }));

Deno.test("after a crash (no clean stop) the map is not trusted but keeps its identity and sync point", () =>
  withDir((dir) => {
    const file = join(dir, "zones.json");
    const t = ZoneTracker.start(file, Z);
    t.secondarySynced(1_700_000_000_000);
    t.note(write("f", 0), false, 0);
    // killed here: close() never runs
    const s = loadZoneState(file, Z);
    assert.equal(s.trusted, false);
    assert.equal(s.mapId, t.state.mapId);
    assert.equal(s.generation, 1);
    assert.equal(s.sinceMs, 1_700_000_000_000);
    assert.equal(s.map.lookup("f"), undefined);
  }));

Deno.test("a map restarted after a clean stop is marked not clean on disk before any write", () =>
  withDir((dir) => {
    const file = join(dir, "zones.json");
    ZoneTracker.start(file, Z).close();
    const t2 = ZoneTracker.start(file, Z);
    assert.equal(t2.state.trusted, true);
    assert.equal(loadZoneState(file, Z).trusted, false);
  }));

Deno.test("a map written with another ruzone_blocksize is not trusted", () =>
  withDir((dir) => {
    const file = join(dir, "zones.json");
    const t = ZoneTracker.start(file, Z);
    t.note(write("f", 0), false, 0);
    t.close();
    assert.equal(loadZoneState(file, 2 * Z).trusted, false);
  }));

Deno.test("ops while in sync are not recorded, until the secondary is lost (recent window)", () =>
  withDir((dir) => {
    const t = ZoneTracker.start(join(dir, "zones.json"), Z);
    t.note(write("old", 0), true, 0);
    t.rotate();
    t.rotate(); // "old" has left the window
    t.note(write("f", 0), true, 0);
    assert.equal(t.state.map.lookup("f"), undefined);
    t.secondaryLost();
    assert.ok(t.state.map.lookup("f"));
    assert.equal(t.state.map.lookup("old"), undefined);
  }));

Deno.test("a sync point clears the recent window except the ops sent in its last seconds", () =>
  withDir((dir) => {
    const t = ZoneTracker.start(join(dir, "zones.json"), Z);
    t.note(write("long-ago", 0), false, 1_000, true);
    t.note(write("just-now", 0), false, 9_500, true);
    t.note(write("while-alone", 0), false, 9_600, false);
    t.secondarySynced(10_000);
    t.secondaryLost();
    assert.equal(t.state.map.lookup("long-ago"), undefined);
    assert.ok(t.state.map.lookup("just-now"));
    assert.equal(t.state.map.lookup("while-alone"), undefined, "copied by the reintegration itself");
  }));

Deno.test("a sync point clears the map and bumps the generation", () =>
  withDir((dir) => {
    const t = ZoneTracker.start(join(dir, "zones.json"), Z);
    t.note(write("f", 0), false, 0);
    t.secondarySynced(42);
    assert.ok(t.state.map.isEmpty);
    assert.deepEqual([t.state.generation, t.state.sinceMs], [1, 42]);
  }));

Deno.test("the answer for a directory carries its children's zones, or says it is all new", () =>
  withDir((dir) => {
    const t = ZoneTracker.start(join(dir, "zones.json"), Z);
    t.note(write("d/f", 2 * Z), false, 0);
    t.note({ kind: "mkdir", path: "n", mode: 0o755, uid: 0, gid: 0 }, false, 0);
    const a = decodeZoneAnswer(t.answer("d", 1 << 20));
    assert.equal(a.mapId, t.state.mapId);
    assert.equal(countZones(a.files.get("f")!.bits), 1);
    assert.equal(a.allWhole, false);
    assert.equal(decodeZoneAnswer(t.answer("n/sub", 1 << 20)).allWhole, true);
    const tooBig = decodeZoneAnswer(t.answer("d", 10));
    assert.deepEqual([tooBig.overflow, tooBig.files.size], [true, 0]);
  }));
