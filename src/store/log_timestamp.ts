// The timestamp of the raw log lines (spec §10.1, §10.3): `2021-08-06 08:40:20.909224`, wall-clock
// time with microseconds and no zone suffix, as SafeKit prints it.
//
// Time zone: the database stores UTC instants (epoch microseconds); the zone is applied only when a
// line is formatted. "local" uses the offset that the process's zone (TZ, else /etc/localtime) had at
// that instant, so lines written before and after a DST change each show their own wall-clock time.
// Consequence to know: in the hour repeated when DST ends, printed times go backwards while ids keep
// increasing; order lines by id, never by the printed time. "utc" and a fixed offset give stable output
// (tests, comparing nodes in different zones).

/** "local", "utc", or a fixed offset in minutes EAST of UTC (+120 = CEST; note: the opposite sign of
 * Date.prototype.getTimezoneOffset). */
export type LogTimeZone = "local" | "utc" | { readonly offsetMinutes: number };

export function formatLogTimestamp(atMs: number, zone: LogTimeZone = "local"): string {
  const totalUs = Math.round(atMs * 1000);
  const seconds = Math.floor(totalUs / 1_000_000);
  const micros = totalUs - seconds * 1_000_000;
  const offsetMinutes = zone === "utc"
    ? 0
    : zone === "local"
    ? -new Date(seconds * 1000).getTimezoneOffset()
    : zone.offsetMinutes;
  const wall = new Date(seconds * 1000 + offsetMinutes * 60_000);
  return `${pad(wall.getUTCFullYear(), 4)}-${pad(wall.getUTCMonth() + 1, 2)}-${pad(wall.getUTCDate(), 2)} ` +
    `${pad(wall.getUTCHours(), 2)}:${pad(wall.getUTCMinutes(), 2)}:${pad(wall.getUTCSeconds(), 2)}.` +
    pad(micros, 6);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}
