// The streaming guard counts real inflated bytes against the declared size and the limits.

import assert from "node:assert/strict";
import { DEFAULT_SAFE_ARCHIVE_LIMITS, InflationGuard } from "../../src/module_package/archive_limits.ts";

const MiB = 1024 * 1024;
const limits = { ...DEFAULT_SAFE_ARCHIVE_LIMITS, maxEntryBytes: 10 * MiB, maxTotalBytes: 20 * MiB };

Deno.test("inflation guard: bytes beyond the declared size are a forged size, even under every limit", () => {
  const guard = new InflationGuard({ uncompressed: 1000, compressed: 900 }, 0, limits);
  assert.equal(guard.add(1000), null);
  assert.equal(guard.add(1)?.code, "size_mismatch");
});

Deno.test("inflation guard: the per-entry, total and ratio limits hold on real bytes", () => {
  const huge = { uncompressed: Number.MAX_SAFE_INTEGER, compressed: 5 * MiB };
  assert.equal(new InflationGuard(huge, 0, limits).add(10 * MiB + 1)?.code, "entry_too_large");
  assert.equal(new InflationGuard(huge, 15 * MiB, limits).add(5 * MiB + 1)?.code, "total_too_large");
  const dense = { uncompressed: Number.MAX_SAFE_INTEGER, compressed: 10_000 };
  assert.equal(new InflationGuard(dense, 0, limits).add(1 * MiB), null);
  assert.equal(new InflationGuard(dense, 0, limits).add(2_000_001)?.code, "compression_ratio");
});

Deno.test("inflation guard: fewer bytes than declared is a forged size", () => {
  const guard = new InflationGuard({ uncompressed: 1000, compressed: 900 }, 0, limits);
  guard.add(999);
  assert.equal(guard.finish()?.code, "size_mismatch");
  guard.add(1);
  assert.equal(guard.finish(), null);
});
