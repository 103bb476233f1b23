// `safekit rfsdiff` (spec §3.7, on ALONE): what the next reintegration would copy, from the primary's live
// zone map — files with modified zones (their zones' bytes), entries to copy whole (created, renamed,
// linked: their size), directories new to the secondary (everything below). When the map is not trusted
// (the primary crashed since it was written) the reintegration goes by date instead: every file modified
// since the sync point minus the grace delay, whole; the summary then counts those.
// The sizes come from the tree itself through callbacks, so the arithmetic here stays pure.
import type { ZoneMap } from "./zone_map.ts";
import { rangesToCopy } from "./zone_math.ts";

export type ZoneSummary = {
  /** "zones": from the zone map; "date": the map is not trusted, files modified since the sync point */
  readonly basis: "zones" | "date" | "full";
  /** last sync point with the secondary (epoch ms); null: never in sync, the next copy is full */
  readonly sinceMs: number | null;
  /** files of which only some zones are copied */
  readonly zoneFiles: number;
  /** entries copied whole (new, renamed, linked, or every modified file when going by date) */
  readonly wholeEntries: number;
  /** directories whose whole content is new to the secondary */
  readonly wholeDirs: number;
  /** bytes the reintegration would copy */
  readonly bytes: number;
};

export type TreeSizes = {
  /** size of a regular file, null if it no longer exists (removed since: nothing to copy) */
  fileSize(path: string): number | null;
  /** bytes and files below a directory (bounded walk) */
  dirSize(path: string): { bytes: number; files: number };
};

export function summarizeZoneMap(map: ZoneMap, sinceMs: number | null, sizes: TreeSizes): ZoneSummary {
  let zoneFiles = 0, wholeEntries = 0, bytes = 0;
  const wholeDirs = map.wholeDirs;
  for (const d of wholeDirs) bytes += sizes.dirSize(d).bytes;
  for (const [path, z] of map.entries()) {
    if (map.isWholeDir(parentOf(path))) continue; // counted with its directory
    const size = sizes.fileSize(path);
    if (size === null) continue;
    if (z.whole) {
      wholeEntries++;
      bytes += size;
      continue;
    }
    const ranges = rangesToCopy(z.bits, z.tailFrom, map.zoneSize, size);
    if (ranges.length === 0) continue; // metadata only
    zoneFiles++;
    for (const r of ranges) bytes += r.length;
  }
  return { basis: "zones", sinceMs, zoneFiles, wholeEntries, wholeDirs: wholeDirs.length, bytes };
}

function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : path.slice(0, i);
}

/** A rough duration for `bytes` at `bytesPerSecond` (the CLI's "estimated sync time"). */
export function estimateSeconds(bytes: number, bytesPerSecond: number): number {
  return bytesPerSecond > 0 ? Math.ceil(bytes / bytesPerSecond) : 0;
}
