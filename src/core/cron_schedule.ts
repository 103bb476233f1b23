// Crontab schedules for `<rfs syncat="...">` (spec §7.2: Linux crontab spec, e.g. "01 0 * * *"): five fields
// minute hour day-of-month month day-of-week, each `*`, a number, a range `a-b`, a list `a,b`, a step `*/n`
// or `a-b/n`; day-of-week 0-7 (0 and 7 are Sunday); month and day names (jan, mon...) accepted. As in cron,
// when both day-of-month and day-of-week are restricted, a day matching either is a match. Local time.
// Pure: parse once, then ask for the next time after an instant.

export type CronSchedule = {
  readonly text: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly days: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly weekdays: ReadonlySet<number>;
  readonly daysRestricted: boolean;
  readonly weekdaysRestricted: boolean;
};

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

type FieldSpec = { name: string; min: number; max: number; names?: readonly string[]; nameBase?: number };
const FIELDS: readonly FieldSpec[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { name: "day of week", min: 0, max: 7, names: WEEKDAYS, nameBase: 0 },
];

export class CronError extends Error {}

export function parseCron(text: string): CronSchedule {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 5 || parts[0] === "") {
    throw new CronError(
      `"${text}": a schedule has 5 fields (minute hour day-of-month month day-of-week), e.g. "01 0 * * *"`,
    );
  }
  const sets = parts.map((p, i) => parseField(p, FIELDS[i]));
  const weekdays = new Set([...sets[4]].map((d) => d % 7));
  return {
    text,
    minutes: sets[0],
    hours: sets[1],
    days: sets[2],
    months: sets[3],
    weekdays,
    daysRestricted: parts[2] !== "*",
    weekdaysRestricted: parts[4] !== "*",
  };
}

function parseField(text: string, f: FieldSpec): Set<number> {
  const out = new Set<number>();
  for (const item of text.split(",")) {
    const m = /^(\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:\/(\d+))?$/i.exec(item);
    if (!m) throw new CronError(`${f.name} field "${text}": "${item}" is not a number, range, list or step`);
    let lo = f.min, hi = f.max;
    if (m[1] !== "*") {
      const [a, b] = m[1].split("-");
      lo = value(a, f);
      hi = b === undefined ? (m[2] ? f.max : lo) : value(b, f);
      if (hi < lo) throw new CronError(`${f.name} field "${text}": range ${m[1]} goes backwards`);
    }
    const step = m[2] === undefined ? 1 : Number(m[2]);
    if (step < 1) throw new CronError(`${f.name} field "${text}": a step must be at least 1`);
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

function value(token: string, f: FieldSpec): number {
  const i = f.names?.indexOf(token.toLowerCase()) ?? -1;
  const v = i >= 0 ? i + (f.nameBase ?? 0) : /^\d+$/.test(token) ? Number(token) : NaN;
  if (!Number.isInteger(v) || v < f.min || v > f.max) {
    throw new CronError(`${f.name} "${token}": expected ${f.min}-${f.max}${f.names ? " or a name" : ""}`);
  }
  return v;
}

function dayMatches(s: CronSchedule, d: Date): boolean {
  const dom = s.days.has(d.getDate());
  const dow = s.weekdays.has(d.getDay());
  if (s.daysRestricted && s.weekdaysRestricted) return dom || dow;
  return dom && dow;
}

/** The first minute strictly after `after` (epoch ms) that matches, in local time; null if none in 5 years. */
export function nextCronTime(s: CronSchedule, after: number): number | null {
  const d = new Date(after);
  d.setSeconds(0, 0);
  d.setMinutes(d.getMinutes() + 1);
  const limit = after + 5 * 366 * 86_400_000;
  while (d.getTime() <= limit) {
    if (!s.months.has(d.getMonth() + 1)) {
      d.setMonth(d.getMonth() + 1, 1);
      d.setHours(0, 0, 0, 0);
      continue;
    }
    if (!dayMatches(s, d)) {
      d.setDate(d.getDate() + 1);
      d.setHours(0, 0, 0, 0);
      continue;
    }
    if (!s.hours.has(d.getHours())) {
      d.setHours(d.getHours() + 1, 0, 0, 0);
      continue;
    }
    if (!s.minutes.has(d.getMinutes())) {
      d.setMinutes(d.getMinutes() + 1, 0, 0);
      continue;
    }
    return d.getTime();
  }
  return null;
}
