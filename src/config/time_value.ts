// Time values of userconfig.xml and cluster.xml (SafeKit 8.2.5+ syntax).
//
// Rule (spec §4.2, UG §13.1): a value is a whole number with an optional unit d, h, m, s, ms or us.
// Without unit, the attribute's default unit applies. With a unit, the value is converted to the
// attribute's default unit and must come out as a whole number of that unit; otherwise it is refused.
// So for boot_delay (unit s) '2000ms' is 2 s, but '500ms' is refused with the spec's message
// "invalid value '500ms' for the attribute boot_delay (expected time unit: 's')". The UG also says
// "rounded", which cannot be literal since its own example refuses 500ms; we never round.
// Results are milliseconds; every attribute's unit is ms or larger, so results are whole numbers.

export type TimeUnit = "d" | "h" | "m" | "s" | "ms" | "us";

const MICROSECONDS: Readonly<Record<TimeUnit, bigint>> = {
  us: 1n,
  ms: 1000n,
  s: 1_000_000n,
  m: 60_000_000n,
  h: 3_600_000_000n,
  d: 86_400_000_000n,
};

export type TimeParseResult =
  | { readonly ok: true; readonly ms: number }
  | { readonly ok: false; readonly reason: "syntax" | "unit" | "range" };

export function parseTimeValue(text: string, defaultUnit: TimeUnit): TimeParseResult {
  const m = /^\s*(\d{1,15})\s*(d|h|m|s|ms|us)?\s*$/.exec(text);
  if (m === null) return { ok: false, reason: "syntax" };
  const unit = (m[2] ?? defaultUnit) as TimeUnit;
  const micro = BigInt(m[1]) * MICROSECONDS[unit];
  if (micro % MICROSECONDS[defaultUnit] !== 0n) return { ok: false, reason: "unit" };
  const ms = micro / 1000n;
  if (ms > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, reason: "range" };
  return { ok: true, ms: Number(ms) };
}

/** Milliseconds from a time value, or throws a RangeError; for callers outside the XML parsers. */
export function parseTimeMs(text: string, defaultUnit: TimeUnit): number {
  const r = parseTimeValue(text, defaultUnit);
  if (!r.ok) {
    throw new RangeError(`invalid time value '${text}' (default unit '${defaultUnit}': ${r.reason})`);
  }
  return r.ms;
}

/** Formats milliseconds with the largest unit that divides them exactly (60000 -> "1m"). */
export function formatTimeMs(ms: number): string {
  for (const unit of ["d", "h", "m", "s"] as const) {
    const per = Number(MICROSECONDS[unit] / 1000n);
    if (ms !== 0 && ms % per === 0) return `${ms / per}${unit}`;
  }
  return `${ms}ms`;
}
