// The zone-map query: what the secondary learns from the primary about one directory during a zone
// reintegration — the map's identity and sync point, and the recorded zones of the directory's children.
//
// Carried, until the protocol has a request of its own, as a `read` of the directory at an offset no file
// can reach (ZONE_QUERY_OFFSET, tree_entry.ts): the primary answers it from its ZoneMap in the same
// synchronous stretch as any reintegration reply, so the answer sits at its place in the op stream.

import type { FileZones } from "./zone_map.ts";
import type { ZoneState } from "./zone_store.ts";
import { decodeBase64, encodeBase64 } from "./base64.ts";
import type { EntryExtras, Xattrs } from "./entry_extras.ts";

/** An entry's xattrs, and for a regular file with several names its inode on the primary (hard links). */
export type ExtrasInfo = { readonly xattrs: Xattrs; readonly ino: string | null };

type WireExtras = { x?: [string, string][]; i?: string };

function toWire(e: EntryExtras): WireExtras | null {
  const w: WireExtras = {};
  if (e.xattrs.length > 0) w.x = e.xattrs.map(([n, v]) => [n, encodeBase64(v)]);
  if (e.file && e.nlink > 1) w.i = String(e.ino);
  return w.x === undefined && w.i === undefined ? null : w;
}

function fromWire(w: WireExtras | undefined): ExtrasInfo {
  return {
    xattrs: (w?.x ?? []).map(([n, v]) => [String(n), decodeBase64(String(v))] as const),
    ino: typeof w?.i === "string" ? w.i : null,
  };
}

/** What the primary read of a directory's entries besides their zones. */
export type DirExtras = {
  readonly self: EntryExtras | null;
  readonly children: ReadonlyMap<string, EntryExtras>;
};

export const NO_EXTRAS: ExtrasInfo = { xattrs: [], ino: null };

/** The answer to a single-entry query (ZONE_QUERY_OFFSET + 1). */
export function encodeEntryExtras(e: EntryExtras): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ v: 1, e: toWire(e) ?? {} }));
}

export function decodeEntryExtras(bytes: Uint8Array): ExtrasInfo {
  const w = JSON.parse(new TextDecoder().decode(bytes)) as { v: number; e?: WireExtras };
  if (w.v !== 1) throw new Error("entry extras: unknown format");
  return fromWire(w.e);
}

export type ZoneAnswer = {
  readonly mapId: string;
  readonly generation: number;
  readonly sinceMs: number | null;
  /** false: the primary crashed since the sync point, its map may miss changes */
  readonly trusted: boolean;
  readonly zoneSize: number;
  /** the directory (or an ancestor) is new to the secondary: nothing below it can be patched */
  readonly allWhole: boolean;
  /** the answer did not fit one reply: treat every child as whole */
  readonly overflow: boolean;
  readonly files: ReadonlyMap<string, FileZones>;
  /** the directory's own xattrs (null: not read) */
  readonly self: ExtrasInfo | null;
  /** children with xattrs or several names; absent = none (null map: not read, e.g. overflow) */
  readonly extras: ReadonlyMap<string, ExtrasInfo> | null;
};

type Wire = {
  v: 1;
  mapId: string;
  generation: number;
  sinceMs: number | null;
  trusted: boolean;
  zoneSize: number;
  allWhole: boolean;
  overflow: boolean;
  files: [string, boolean, number | null, string, number][];
  self?: WireExtras | null;
  extras?: Record<string, WireExtras> | null;
};

export function encodeZoneAnswer(
  s: ZoneState,
  dir: string,
  maxBytes: number,
  extras: DirExtras | null = null,
): Uint8Array {
  const head = {
    v: 1 as const,
    mapId: s.mapId,
    generation: s.generation,
    sinceMs: s.sinceMs,
    trusted: s.trusted,
    zoneSize: s.map.zoneSize,
    allWhole: s.map.isWholeDir(dir),
  };
  const files: Wire["files"] = [];
  if (!head.allWhole) {
    for (const [n, z] of s.map.childrenOf(dir)) {
      files.push([n, z.whole, z.tailFrom, encodeBase64(z.bits), z.changes]);
    }
  }
  let ex: Record<string, WireExtras> | null = null;
  if (extras !== null) {
    ex = {};
    for (const [n, e] of extras.children) {
      const w = toWire(e);
      if (w !== null) ex[n] = w;
    }
  }
  const self = extras?.self ? toWire(extras.self) ?? {} : null;
  const bytes = new TextEncoder().encode(
    JSON.stringify({ ...head, overflow: false, files, self, extras: ex } satisfies Wire),
  );
  if (bytes.length <= maxBytes) return bytes;
  return new TextEncoder().encode(JSON.stringify({ ...head, overflow: true, files: [] } satisfies Wire));
}

export function decodeZoneAnswer(bytes: Uint8Array): ZoneAnswer {
  const w = JSON.parse(new TextDecoder().decode(bytes)) as Wire;
  if (w.v !== 1 || typeof w.mapId !== "string" || !Array.isArray(w.files) || !(w.zoneSize >= 4096)) {
    throw new Error("zone map answer: unknown format");
  }
  const files = new Map<string, FileZones>();
  for (const [n, whole, tailFrom, bits, changes] of w.files) {
    files.set(n, { whole: whole === true, tailFrom, bits: decodeBase64(bits), changes });
  }
  return {
    mapId: w.mapId,
    generation: w.generation,
    sinceMs: w.sinceMs,
    trusted: w.trusted === true,
    zoneSize: w.zoneSize,
    allWhole: w.allWhole === true,
    overflow: w.overflow === true,
    files,
    self: w.self === undefined || w.self === null ? null : fromWire(w.self),
    extras: w.extras === undefined || w.extras === null
      ? null
      : new Map(Object.entries(w.extras).map(([n, e]) => [n, fromWire(e)])),
  };
}
