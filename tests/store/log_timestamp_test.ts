import assert from "node:assert/strict";
import { formatLogTimestamp } from "../../src/store/log_timestamp.ts";

// 2021-08-06 08:40:20.909224 UTC, the spec §10.1 example, as fractional epoch milliseconds.
const AT = Date.UTC(2021, 7, 6, 8, 40, 20) + 909.224;

Deno.test("log timestamp: UTC prints the wall-clock time with 6-digit microseconds", () => {
  assert.equal(formatLogTimestamp(AT, "utc"), "2021-08-06 08:40:20.909224");
});

Deno.test("log timestamp: a fixed offset is minutes east of UTC and can cross midnight", () => {
  assert.equal(formatLogTimestamp(AT, { offsetMinutes: 120 }), "2021-08-06 10:40:20.909224");
  assert.equal(formatLogTimestamp(AT, { offsetMinutes: -9 * 60 }), "2021-08-05 23:40:20.909224");
  assert.equal(formatLogTimestamp(AT, { offsetMinutes: 330 }), "2021-08-06 14:10:20.909224");
});

Deno.test("log timestamp: whole milliseconds and the epoch pad with zeros", () => {
  assert.equal(formatLogTimestamp(0, "utc"), "1970-01-01 00:00:00.000000");
  assert.equal(formatLogTimestamp(Date.UTC(2024, 0, 2, 3, 4, 5) + 6, "utc"), "2024-01-02 03:04:05.006000");
});

Deno.test("log timestamp: microseconds round to the nearest and carry into the next second", () => {
  assert.equal(formatLogTimestamp(Date.UTC(2024, 0, 1) + 999.9999, "utc"), "2024-01-01 00:00:01.000000");
  assert.equal(formatLogTimestamp(Date.UTC(2024, 0, 1) + 0.001, "utc"), "2024-01-01 00:00:00.000001");
});

Deno.test("log timestamp: 'local' follows TZ and its DST rules at each instant", async () => {
  const moduleUrl = new URL("../../src/store/log_timestamp.ts", import.meta.url).href;
  const winter = Date.UTC(2021, 0, 15, 12, 0, 0) + 0.5;
  const summer = AT;
  const script = `import { formatLogTimestamp } from "${moduleUrl}";
    console.log(formatLogTimestamp(${winter}) + "\\n" + formatLogTimestamp(${summer}, "local"));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", script],
    env: { TZ: "Europe/Paris" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.deepEqual(new TextDecoder().decode(out.stdout).trim().split("\n"), [
    "2021-01-15 13:00:00.000500", // CET, UTC+1
    "2021-08-06 10:40:20.909224", // CEST, UTC+2
  ]);
});
