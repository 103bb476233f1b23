// The syncat scheduler: due at the first schedule after the hold began, at once when rfs.syncat is set up,
// never while not holding, and a schedule passed during a synchronisation is not queued.
import assert from "node:assert/strict";
import { SyncatScheduler } from "../../src/daemon/syncat_scheduler.ts";

const at = (h: number, m: number) => new Date(2026, 10, 29, h, m).getTime();

Deno.test("syncat scheduler: due at the next schedule after the hold began", () => {
  const s = new SyncatScheduler("30 * * * *");
  let announced: number | null = null;
  assert.equal(s.due(at(10, 0), false, undefined), false);
  assert.equal(s.due(at(10, 5), true, "down", (n) => announced = n), false);
  assert.equal(announced, at(10, 30));
  assert.equal(s.next, at(10, 30));
  assert.equal(s.due(at(10, 29), true, "down"), false);
  assert.equal(s.due(at(10, 30), true, "down"), true);
  // Synchronising (not holding) across 11:30: that schedule is not queued.
  assert.equal(s.due(at(10, 31), false, "up"), false);
  assert.equal(s.next, null);
  assert.equal(s.due(at(11, 45), true, "down"), false);
  assert.equal(s.next, at(12, 30));
});

Deno.test("syncat scheduler: rfs.syncat set up by an administrator forces a synchronisation", () => {
  const s = new SyncatScheduler("01 0 * * *");
  s.due(at(10, 0), true, "down");
  assert.equal(s.due(at(10, 1), true, "down"), false);
  assert.equal(s.due(at(10, 2), true, "up"), true);
});

Deno.test("syncat scheduler: an invalid schedule is refused", () => {
  assert.throws(() => new SyncatScheduler("daily"), /5 fields/);
});
