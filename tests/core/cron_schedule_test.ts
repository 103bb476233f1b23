// <rfs syncat> schedules: parsing (with precise errors) and the next matching minute, in local time.
import assert from "node:assert/strict";
import { CronError, nextCronTime, parseCron } from "../../src/core/cron_schedule.ts";

const at = (y: number, mo: number, d: number, h = 0, mi = 0) => new Date(y, mo - 1, d, h, mi).getTime();
const show = (t: number | null) => {
  if (t === null) return "never";
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${
    p(d.getMinutes())
  }`;
};

Deno.test("nextCronTime: table of schedules and instants", () => {
  const cases: [string, number, string][] = [
    ["01 0 * * *", at(2026, 11, 29, 17, 5), "2026-11-30 00:01"],
    ["01 0 * * *", at(2026, 11, 30, 0, 0), "2026-11-30 00:01"],
    ["01 0 * * *", at(2026, 11, 30, 0, 1), "2026-12-01 00:01"],
    ["*/15 * * * *", at(2026, 11, 29, 17, 5), "2026-11-29 17:15"],
    ["0 9-17/4 * * mon-fri", at(2026, 11, 28, 12, 0), "2026-11-30 09:00"], // Saturday -> Monday
    ["30 2 1 * *", at(2026, 12, 15), "2027-01-01 02:30"],
    ["0 0 29 feb *", at(2026, 3, 1), "2028-02-29 00:00"],
    ["0 12 13 * 5", at(2026, 11, 29), "2026-12-04 12:00"], // the 13th OR a Friday
    ["0 0 * * 7", at(2026, 11, 29, 1), "2026-12-06 00:00"], // 7 is Sunday
    ["5,10 1 * * *", at(2026, 11, 29, 1, 7), "2026-11-29 01:10"],
    ["0 0 31 4 *", at(2026, 1, 1), "never"],
  ];
  for (const [spec, from, want] of cases) assert.equal(show(nextCronTime(parseCron(spec), from)), want, spec);
});

Deno.test("parseCron refuses bad schedules with a precise message", () => {
  const bad: [string, RegExp][] = [
    ["", /5 fields/],
    ["* * * *", /5 fields/],
    ["60 * * * *", /minute "60": expected 0-59/],
    ["* 24 * * *", /hour "24"/],
    ["* * 0 * *", /day of month "0"/],
    ["* * * 13 *", /month "13"/],
    ["* * * * 8", /day of week "8"/],
    ["5-1 * * * *", /goes backwards/],
    ["*/0 * * * *", /at least 1/],
    ["a * * * *", /minute "a"/],
    ["1;2 * * * *", /not a number, range, list or step/],
    ["/SC DAILY /ST 00:01:00", /5 fields/],
  ];
  for (const [spec, re] of bad) {
    assert.throws(() => parseCron(spec), (e) => e instanceof CronError && re.test(e.message), spec);
  }
});
