// Times come in as epoch milliseconds (the caller's clock; fractional values carry sub-millisecond
// precision, e.g. performance.timeOrigin + performance.now()) and are stored as integer microseconds,
// because the raw log formats of the spec print microseconds (§10.1, §10.3).
import { invalidInput } from "./store_error.ts";

export function epochMsToMicros(at: number, what = "at"): number {
  if (typeof at !== "number" || !Number.isFinite(at) || at < 0) {
    throw invalidInput(
      `${what}: invalid time ${String(at)} (expected epoch milliseconds, a finite number >= 0)`,
    );
  }
  return Math.round(at * 1000);
}

export function microsToEpochMs(us: number): number {
  return us / 1000;
}
