// Zone tracking for every replicated directory of a primary, wired to its ReplicationClient: one
// ZoneTracker per directory (files rfs_zones_<i>.json under the module's state directory), the zone-map
// query handler for the client's reintegration replies, and the recent-ops window rotation.
// Used by primary_process.ts (the sink wrapper calls `note`) and by the tests and benchmarks.

import { summarizeZoneMap, type ZoneSummary } from "./zone_summary.ts";
import { join } from "node:path";
import { setZoneQueryHandler } from "../tree_entry.ts";
import { MAX_READ_BYTES } from "../protocol/messages.ts";
import { ZoneTracker } from "./zone_tracker.ts";
import { type EntryExtras, readExtras, readExtrasAt } from "./entry_extras.ts";
import { openBeneath } from "../beneath_root.ts";
import { cstr, O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW, O_RDONLY, sys } from "../fuse/libc.ts";
import { type DirExtras, encodeEntryExtras } from "./zone_query.ts";
import { listEntries } from "../tree_entry.ts";
import type { TreeOp } from "../tree_op.ts";

/** What the trackers need to know of the client: is the secondary connected and in sync right now? */
export type SyncView = { readonly state: string; readonly needsResync: boolean };

const ROTATE_MS = 30_000;
// Room for the reply's own fields around the answer.
const MAX_ANSWER_BYTES = MAX_READ_BYTES - 4096;

/** xattrs and link identities of a directory and its children, read now (in the reply's stretch). */
function dirExtras(rootFd: number, dir: string): DirExtras | null {
  const l = listEntries(rootFd, dir);
  if (typeof l === "number") return null;
  // One handle on the directory for all its children (not one path walk each).
  const fd = dir === "." ? rootFd : openBeneath(rootFd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return null;
  try {
    const children = new Map<string, EntryExtras>();
    for (const e of l.entries) {
      const x = readExtrasAt(fd, cstr(e.name));
      if (typeof x !== "number") children.set(e.name, x);
    }
    const self = readExtras(rootFd, dir);
    return { self: typeof self === "number" ? null : self, children };
  } finally {
    if (fd !== rootFd) sys.close(fd);
  }
}

export class PrimaryZones {
  readonly trackers: ZoneTracker[];
  #client: SyncView | null = null;
  #timer: ReturnType<typeof setInterval>;

  /** Loads the maps and marks them "not clean" on disk: from here on every change must be noted. */
  constructor(stateDir: string, zoneSize: number, dirCount: number) {
    Deno.mkdirSync(stateDir, { recursive: true });
    this.trackers = Array.from(
      { length: dirCount },
      (_, i) => ZoneTracker.start(join(stateDir, `rfs_zones_${i}.json`), zoneSize),
    );
    this.#timer = setInterval(() => this.trackers.forEach((t) => t.rotate()), ROTATE_MS);
    Deno.unrefTimer(this.#timer);
  }

  /** Answers the zone-map queries of reintegrations for the trees `rootFds` (in <replicated> order). */
  serve(rootFds: readonly number[]): void {
    const byFd = new Map(rootFds.map((fd, i) => [fd, this.trackers[i]]));
    setZoneQueryHandler((fd, path, query) => {
      const t = byFd.get(fd);
      if (t === undefined) return null;
      if (query === 1) {
        const e = readExtras(fd, path);
        return encodeEntryExtras(typeof e === "number" ? { xattrs: [], ino: 0n, nlink: 1, file: false } : e);
      }
      return t.answer(path, MAX_ANSWER_BYTES, dirExtras(fd, path));
    });
  }

  /** The client, once it exists (before, nothing is connected: every op is recorded). */
  attach(client: SyncView): void {
    this.#client = client;
  }

  /** Called by the sink in the same synchronous stretch as the change of the tree, before it is sent. */
  note(dir: number, op: TreeOp): void {
    const c = this.#client;
    const connected = c !== null && c.state === "connected";
    this.trackers[dir]?.note(op, connected && !c.needsResync, Date.now(), connected);
  }

  secondaryLost(): void {
    for (const t of this.trackers) t.secondaryLost();
  }

  secondarySynced(now: number): void {
    for (const t of this.trackers) t.secondarySynced(now);
  }

  /**
   * What the next reintegration would copy, per directory (`safekit rfsdiff`). Sizes are read beneath the
   * mounts through the root handles (/proc/self/fd/N), never through the FUSE mount this process serves.
   */
  summary(rootFds: readonly number[]): ZoneSummary[] {
    return this.trackers.map((t, i) => {
      const root = `/proc/self/fd/${rootFds[i]}`;
      const st = t.state;
      if (st.sinceMs !== null && st.trusted) {
        return summarizeZoneMap(st.map, st.sinceMs, {
          fileSize: (p) => {
            try {
              const s = Deno.lstatSync(`${root}/${p}`);
              return s.isFile ? s.size : 0;
            } catch {
              return null;
            }
          },
          dirSize: (p) => walkSizes(`${root}/${p}`, 0),
        });
      }
      // Not trusted (crash) or never in sync: the reintegration copies by date, or everything.
      const since = st.sinceMs === null ? 0 : st.sinceMs - HOUR_MS;
      const w = walkSizes(root, since);
      return {
        basis: st.sinceMs === null ? "full" : "date",
        sinceMs: st.sinceMs,
        zoneFiles: 0,
        wholeEntries: w.files,
        wholeDirs: 0,
        bytes: w.bytes,
      } satisfies ZoneSummary;
    });
  }

  /** Clean stop, after the mounts are gone (no op can arrive any more). */
  close(): void {
    clearInterval(this.#timer);
    setZoneQueryHandler(null);
    for (const t of this.trackers) t.close();
  }
}

const HOUR_MS = 3_600_000;
const WALK_LIMIT = 2_000_000;

/** Regular files below `dir` modified at or after `sinceMs` (0: all): count and bytes, bounded. */
function walkSizes(dir: string, sinceMs: number): { bytes: number; files: number } {
  let bytes = 0, files = 0, seen = 0;
  const walk = (d: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(d)];
    } catch {
      return;
    }
    for (const e of entries) {
      if (++seen > WALK_LIMIT) return;
      const p = `${d}/${e.name}`;
      if (e.isDirectory) walk(p);
      else if (e.isFile) {
        try {
          const st = Deno.lstatSync(p);
          if ((st.mtime?.getTime() ?? 0) >= sinceMs) {
            files++;
            bytes += st.size;
          }
        } catch { /* removed meanwhile */ }
      }
    }
  };
  walk(dir);
  return { bytes, files };
}
