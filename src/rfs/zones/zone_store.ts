// Persistence of a replicated directory's ZoneMap under the module's state directory, written tmp + fsync +
// rename. The crash rule (docs/replication.md, "Zone bitmaps"): the file says `clean: false` from the moment
// the primary starts tracking until a clean stop writes the full map with `clean: true`. A map read back
// with `clean: false` (the primary crashed or was killed) is not trusted: the secondary then copies every
// file modified since the last sync point minus a grace delay (spec §7.2 case 3).

import { FileZones, ZoneMap } from "./zone_map.ts";
import { decodeBase64, encodeBase64 } from "./base64.ts";

export type ZoneState = {
  /** random, created with the file: a secondary in sync with another map must not use this one */
  readonly mapId: string;
  /** bumped at every sync point (the secondary reports "synced"; the map is cleared) */
  generation: number;
  /** epoch ms of the last sync point; null if the secondary was never in sync with this primary */
  sinceMs: number | null;
  /** false when the file on disk may miss changes (a crash since it was written) */
  trusted: boolean;
  map: ZoneMap;
};

type ZoneFile = {
  version: 1;
  mapId: string;
  generation: number;
  sinceMs: number | null;
  zoneSize: number;
  clean: boolean;
  wholeDirs: string[];
  files: [string, boolean, number | null, string, number][];
};

export function freshZoneState(zoneSize: number): ZoneState {
  return {
    mapId: crypto.randomUUID(),
    generation: 0,
    sinceMs: null,
    trusted: true,
    map: new ZoneMap(zoneSize),
  };
}

export function encodeZoneFile(s: ZoneState, clean: boolean): string {
  const files: ZoneFile["files"] = [];
  for (const [p, z] of s.map.entries()) files.push([p, z.whole, z.tailFrom, encodeBase64(z.bits), z.changes]);
  const f: ZoneFile = {
    version: 1,
    mapId: s.mapId,
    generation: s.generation,
    sinceMs: s.sinceMs,
    zoneSize: s.map.zoneSize,
    clean: clean && s.trusted,
    wholeDirs: [...s.map.wholeDirs],
    files,
  };
  return JSON.stringify(f);
}

/**
 * Reads a zone file back. A file written by a process that did not stop cleanly, or with another zone size,
 * gives an untrusted state that keeps the map's identity and sync point (for the date fallback).
 */
export function decodeZoneFile(text: string, zoneSize: number): ZoneState {
  const f = JSON.parse(text) as ZoneFile;
  if (f.version !== 1 || typeof f.mapId !== "string" || !Array.isArray(f.files)) {
    throw new Error("zone map file: unknown format");
  }
  const map = new ZoneMap(zoneSize);
  const trusted = f.clean === true && f.zoneSize === zoneSize;
  if (trusted) {
    for (const d of f.wholeDirs) map.restoreWholeDir(d);
    for (const [p, whole, tailFrom, bits, changes] of f.files) {
      const z: FileZones = { whole, tailFrom, bits: decodeBase64(bits), changes };
      map.restore(p, z);
    }
  }
  return { mapId: f.mapId, generation: f.generation, sinceMs: f.sinceMs, trusted, map };
}

/** Writes `text` to `path` durably: tmp file, fsync, rename, fsync of the directory. */
export function writeFileDurably(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  const f = Deno.openSync(tmp, { write: true, create: true, truncate: true, mode: 0o600 });
  try {
    const bytes = new TextEncoder().encode(text);
    for (let done = 0; done < bytes.length;) done += f.writeSync(bytes.subarray(done));
    f.syncSync();
  } finally {
    f.close();
  }
  Deno.renameSync(tmp, path);
  const slash = path.lastIndexOf("/");
  const dir = Deno.openSync(slash <= 0 ? "/" : path.slice(0, slash), { read: true });
  try {
    dir.syncSync();
  } finally {
    dir.close();
  }
}

/** Loads the state of `path`, or a fresh one if the file does not exist yet. */
export function loadZoneState(path: string, zoneSize: number): ZoneState {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return freshZoneState(zoneSize);
    throw e;
  }
  return decodeZoneFile(text, zoneSize);
}
