// The replication bandwidth resources: KB/s averaged over the last 3 s of cumulative counter samples.
import assert from "node:assert/strict";
import { BandwidthMeter } from "../../src/rfs/bandwidth_meter.ts";

Deno.test("bandwidth meter: average over the window, restart on a counter reset, 0 when idle", () => {
  const m = new BandwidthMeter(3000);
  assert.equal(m.sample(0, 0), 0);
  assert.equal(m.sample(1000, 1024 * 1024), 1024);
  assert.equal(m.sample(2000, 2 * 1024 * 1024), 1024);
  assert.equal(m.sample(3000, 3 * 1024 * 1024), 1024);
  // A burst then silence: the window slides past the burst.
  assert.equal(m.sample(4000, 9 * 1024 * 1024), Math.round(8 * 1024 / 3));
  for (let t = 5000; t <= 8000; t += 1000) m.sample(t, 9 * 1024 * 1024);
  assert.equal(m.sample(9000, 9 * 1024 * 1024), 0);
  // A new process: its counter starts again from 0.
  assert.equal(m.sample(10_000, 100), 0);
  assert.equal(m.sample(11_000, 100 + 10 * 1024), 10);
});
