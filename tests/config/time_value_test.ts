import assert from "node:assert/strict";
import { formatTimeMs, parseTimeMs, parseTimeValue, type TimeUnit } from "../../src/config/mod.ts";

const rows: [text: string, unit: TimeUnit, expected: number | "syntax" | "unit" | "range"][] = [
  ["30", "s", 30_000],
  ["30s", "s", 30_000],
  ["2000ms", "s", 2_000],
  ["500ms", "s", "unit"],
  ["1500ms", "s", "unit"],
  ["1m", "s", 60_000],
  ["24", "h", 86_400_000],
  ["1d", "h", 86_400_000],
  ["30m", "h", "unit"],
  ["90m", "m", 5_400_000],
  ["700", "ms", 700],
  ["700ms", "ms", 700],
  ["2000us", "ms", 2],
  ["1500us", "ms", "unit"],
  ["0", "s", 0],
  [" 5 s ", "s", 5_000],
  ["30x", "ms", "syntax"],
  ["-1", "s", "syntax"],
  ["1.5s", "s", "syntax"],
  ["", "s", "syntax"],
  ["s", "s", "syntax"],
  ["999999999999999d", "d", "range"],
];

for (const [text, unit, expected] of rows) {
  Deno.test(`time value: '${text}' with default unit ${unit} gives ${expected}`, () => {
    const r = parseTimeValue(text, unit);
    if (typeof expected === "number") assert.deepEqual(r, { ok: true, ms: expected });
    else assert.deepEqual(r, { ok: false, reason: expected });
  });
}

Deno.test("time value: parseTimeMs throws a RangeError naming the value", () => {
  assert.equal(parseTimeMs("2m", "s"), 120_000);
  assert.throws(() => parseTimeMs("500ms", "s"), /invalid time value '500ms'/);
});

Deno.test("time value: formatTimeMs uses the largest exact unit", () => {
  assert.deepEqual([86_400_000, 3_600_000, 60_000, 30_000, 700, 0].map(formatTimeMs), [
    "1d",
    "1h",
    "1m",
    "30s",
    "700ms",
    "0ms",
  ]);
});
