// The secondary's side of zone reintegration: the sync point its tree is at (per replicated directory,
// the primary's map id and generation) and whether it stopped cleanly, plus the files an interrupted
// reintegration finished. Kept in `rfs_sync.json` under the module's state directory, written durably.
//
// Life cycle (src/daemon/rfs_runtime.ts): a completed reintegration records the sync point, not clean; a
// clean stop of the secondary flushes the replicated file systems then marks it clean; a reintegration
// starting marks it not clean until it completes or is interrupted cleanly; a node that becomes primary
// forgets it (its tree now moves on its own).

import { join } from "node:path";
import type { SyncRecord } from "../reintegration.ts";
import { writeFileDurably } from "./zone_store.ts";

export type SecondarySyncState = {
  readonly records: readonly (SyncRecord | null)[];
  /** files finished by an interrupted reintegration against these records: resumeKey -> change counter */
  readonly resume: ReadonlyMap<string, number>;
};

type SyncFile = {
  version: 1;
  records: (SyncRecord | null)[];
  resume: [string, number][];
};

export const EMPTY_SYNC_STATE: SecondarySyncState = { records: [], resume: new Map() };

export function syncStateFile(stateDir: string): string {
  return join(stateDir, "rfs_sync.json");
}

export function loadSyncState(file: string): SecondarySyncState {
  let f: SyncFile;
  try {
    f = JSON.parse(Deno.readTextFileSync(file)) as SyncFile;
  } catch {
    return EMPTY_SYNC_STATE; // missing or unreadable: no sync point known (a compare, never a wrong zone copy)
  }
  if (f.version !== 1 || !Array.isArray(f.records) || !Array.isArray(f.resume)) return EMPTY_SYNC_STATE;
  return { records: f.records, resume: new Map(f.resume) };
}

export function saveSyncState(file: string, s: SecondarySyncState): void {
  const dir = file.slice(0, file.lastIndexOf("/"));
  if (dir !== "") Deno.mkdirSync(dir, { recursive: true });
  const f: SyncFile = { version: 1, records: [...s.records], resume: [...s.resume] };
  writeFileDurably(file, JSON.stringify(f));
}

/** The same records with `clean` set (null records stay null); a clean one says when (`now`). */
export function withClean(s: SecondarySyncState, clean: boolean, now = Date.now()): SecondarySyncState {
  return {
    ...s,
    records: s.records.map((
      r,
    ) => (r === null ? null : { ...r, clean, ...(clean ? { stoppedAtMs: now } : {}) })),
  };
}

export function forgetSyncState(file: string): void {
  try {
    Deno.removeSync(file);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}
