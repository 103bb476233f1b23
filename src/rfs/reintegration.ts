// Reintegration (resynchronization) of the secondary from the primary, while the application keeps
// writing on the primary (spec §7.2). Runs on the secondary, over the replication session the primary
// opened: it walks the primary's trees with list/stat/read requests, copies what differs, deletes what
// the primary does not have, and decides op by op what to do with the live ops meanwhile
// (reintegration_state.ts). When every name is synced, the session switches to applying every op and
// tells the primary ("synced"); from that moment the trees are equal and stay so.
//
// Modes (the automaton's startResync): "full" copies every file; "date" copies files whose mtime is at or
// after `since`, plus missing ones and ones whose size differs; "zones" (spec §7.2 case 2) asks the
// primary for its zone bitmaps (src/rfs/zones/) and, when they describe exactly the changes since this
// secondary's last sync point, copies only the modified zones of the modified files. When they do not
// (the primary crashed, this secondary was not stopped cleanly, another primary, no record), it falls back
// to "date" from the last sync point minus a grace delay (case 3), or, without a known sync point, to
// comparing size and mtime and copying differing files whole.
// Every mode deletes what the primary does not have and reconciles directories, symlinks, special files,
// owners and modes. When the primary keeps zone maps it also answers, per listed directory, the entries'
// extended attributes and the inode of files with several names: xattrs are made equal, and a second name
// of a file already in sync is recreated as a hard link to it (docs/replication.md).

import {
  applyTreeOp,
  applyTreeOpSync,
  pwriteAll,
  pwriteAllAsync,
  setOwnerAndModeFd,
} from "./apply_tree_op.ts";
import { openBeneath, type TreeRoot } from "./beneath_root.ts";
import { errno, errnoName, O_CLOEXEC, O_CREAT, O_NOFOLLOW, O_WRONLY, sys } from "./fuse/libc.ts";
import type { ReiReply, ReplicationSession } from "./replication_server.ts";
import { REPLICATE_ALL, type ReplicationFilter } from "./replication_filter.ts";
import { TreeSyncState } from "./reintegration_state.ts";
import { listEntries, statEntry, type TreeEntry, ZONE_QUERY_OFFSET } from "./tree_entry.ts";
import type { TreeOp } from "./tree_op.ts";
import { MAX_READ_BYTES } from "./protocol/messages.ts";
import { decodeEntryExtras, decodeZoneAnswer, NO_EXTRAS, type ZoneAnswer } from "./zones/zone_query.ts";
import { applyXattrs, localInode, localLinkCount } from "./zones/entry_extras.ts";
import { type ByteRange, rangesToCopy } from "./zones/zone_math.ts";
import type { FileZones } from "./zones/zone_map.ts";

export type ReintegrationDir = {
  /** The directory as configured (for the log). */
  readonly dir: string;
  readonly filter?: ReplicationFilter;
  /** <tocheck path>: must exist on the primary, or the reintegration is refused. */
  readonly toCheck?: readonly string[];
};

export type ReintegrationOptions = {
  readonly session: ReplicationSession;
  /** In <replicated> order, the same order as the session's roots. */
  readonly dirs: readonly ReintegrationDir[];
  readonly mode: "full" | "zones" | "date";
  /** mode "date": epoch ms */
  readonly since?: number;
  readonly nbRei: number;
  readonly reiPacketSize: number;
  /** KB/s cap on the data read from the primary; unset = unlimited */
  readonly reiAllowedBwKBs?: number;
  readonly reiTimeoutMs: number;
  readonly onProgress?: (percent: number) => void;
  readonly log?: (level: "I" | "E", message: string) => void;
  /** stopResync */
  readonly signal?: AbortSignal;
  readonly now?: () => number;
  /** What this secondary knows of its last sync point, per directory (mode "zones"). */
  readonly zones?: ZoneOptions;
};

/** Recorded by the secondary when a reintegration completes, and marked clean at a clean stop. */
export type SyncRecord = {
  readonly mapId: string;
  readonly generation: number;
  readonly clean: boolean;
  /**
   * When the clean stop was recorded (this node's clock, epoch ms): a local file modified after it was
   * changed behind replication's back (spec §7.2 case 3) and is copied whole.
   */
  readonly stoppedAtMs?: number;
};

export type ZoneOptions = {
  /** per <replicated> directory: the sync point this secondary's tree is at (null: unknown) */
  readonly records: readonly (SyncRecord | null)[];
  /** spec §7.2 case 3: files modified since the sync point minus this are copied (default 1 h) */
  readonly graceMs?: number;
  /**
   * Files an interrupted reintegration against the same map already finished, by `resumeKey(dir, path)`:
   * the file's change counter then. A file whose counter has not moved since is not copied again.
   */
  readonly resume?: ReadonlyMap<string, number>;
  /** A file was brought up to date: `changes` is the counter to keep for a resume. */
  readonly onFileDone?: (dir: number, path: string, changes: number) => void;
};

export const resumeKey = (dir: number, path: string) => `${dir}\0${path}`;

/** How one directory was reintegrated. */
export type Strategy = "full" | "zones" | "date" | "compare";

export type ReintegrationResult = {
  readonly filesCopied: number;
  readonly bytesCopied: number;
  readonly entriesDeleted: number;
  readonly entriesChecked: number;
  readonly opsApplied: number;
  readonly opsDropped: number;
  /** files not copied again because an interrupted reintegration had finished them */
  readonly filesResumed: number;
  readonly elapsedMs: number;
  readonly strategies: readonly Strategy[];
  /** per directory, the sync point to record (the primary's map after it hears "synced"); null = none */
  readonly syncPoints: readonly ({ mapId: string; generation: number } | null)[];
};

export class ReintegrationError extends Error {
  override name = "ReintegrationError";
}

type Task =
  | { readonly kind: "list"; readonly dir: number; readonly path: string }
  | { readonly kind: "resync"; readonly dir: number; readonly path: string }
  | {
    readonly kind: "copy";
    readonly dir: number;
    readonly path: string;
    readonly size: number;
    readonly token: number;
    /** only the zones of a file known to equal the primary's at the sync point elsewhere */
    readonly ranges?: readonly ByteRange[];
  };

/** A listing's names, and its copies held back until the directory's answer (hard links) is in. */
type Listed = { readonly names: string[]; readonly copies: Task[] };

/** A file of a listing whose fate waits for the directory's zone answer (it is "copying" meanwhile). */
type Held = {
  readonly path: string;
  readonly name: string;
  readonly p: TreeEntry;
  readonly localSize: number;
  readonly localMtimeMs: number;
};
type CopyInfo = { readonly token: number; readonly zones: boolean; readonly changes: number | null };
/** Names of one primary inode seen in this reintegration: the first one, and its local inode once in sync. */
type LinkGroup = { readonly first: string; localIno: bigint | null };

const WHOLE: FileZones = { whole: true, tailFrom: null, bits: new Uint8Array(0), changes: -1 };
const HOUR_MS = 3_600_000;
// Zone reads of one file kept in flight at once (the replies come back in order).
const ZONE_WINDOW_BYTES = 32 << 20;
/** Copied pieces at least this large are written off the JS thread (as in replication_server.ts). */
const ASYNC_COPY_BYTES = 64 * 1024;

const ENOENT = 2, ENOTDIR = 20, ELOOP = 40;
const S_PERM = 0o7777;
const taskWeight = (t: Task) =>
  t.kind !== "copy"
    ? 1
    : 1 + (t.ranges ?? [{ length: t.size }]).reduce((n, r) => n + r.length, 0) / (1 << 20);

/** Runs one reintegration over `session`; resolves when the trees are equal (the session is then synced). */
export async function reintegrate(opts: ReintegrationOptions): Promise<ReintegrationResult> {
  const r = new Reintegration(opts);
  return await r.run();
}

class Reintegration {
  private readonly states: TreeSyncState[];
  private readonly roots: readonly TreeRoot[];
  private readonly filters: ReplicationFilter[];
  private readonly listQueue: Task[] = [];
  private readonly copyQueue: Task[] = [];
  private active = 0;
  private waiters: (() => void)[] = [];
  private failure: Error | null = null;
  private finished = false;
  private totalWeight = 0;
  private doneWeight = 0;
  private lastPercent = -1;
  private bwStart = 0;
  private bwBytes = 0;
  private readonly now: () => number;
  private readonly stats = {
    filesCopied: 0,
    bytesCopied: 0,
    entriesDeleted: 0,
    entriesChecked: 0,
    opsApplied: 0,
    opsDropped: 0,
    filesResumed: 0,
  };
  private readonly packet: number;
  private readonly strategies: Strategy[];
  private readonly answers: (ZoneAnswer | null)[];
  private readonly since: number[];
  /** why each directory is reintegrated the way it is (logged after "Updating directory tree") */
  private readonly strategyNotes: (string | undefined)[] = [];
  private readonly copies = new Map<string, CopyInfo>();
  /** `${dir}:${primary inode}` -> its names' group */
  private readonly links = new Map<string, LinkGroup>();
  /** the same groups by their first name's resumeKey */
  private readonly linkFirsts = new Map<string, LinkGroup>();
  /** second names whose copy waits to be a link: resumeKey -> group key */
  private readonly linkWanted = new Map<string, string>();
  /** files created after their directory's extras were read: their xattrs are read again after the copy */
  private readonly extrasAfterCopy = new Set<string>();
  /** while a listing with a directory answer is reconciled: where its copy tasks wait */
  private deferCopies: Task[] | null = null;
  private nextToken = 1;

  constructor(private readonly opts: ReintegrationOptions) {
    this.now = opts.now ?? Date.now;
    this.roots = opts.session.roots;
    if (opts.dirs.length !== this.roots.length) {
      throw new RangeError(
        `reintegration: ${opts.dirs.length} directories given, the session has ${this.roots.length}`,
      );
    }
    this.states = this.roots.map(() => new TreeSyncState());
    this.filters = opts.dirs.map((d) => d.filter ?? REPLICATE_ALL);
    this.packet = Math.max(4096, Math.min(opts.reiPacketSize, MAX_READ_BYTES));
    this.strategies = this.roots.map(() => (opts.mode === "zones" ? "compare" : opts.mode));
    this.answers = this.roots.map(() => null);
    this.since = this.roots.map(() => opts.since ?? 0);
  }

  async run(): Promise<ReintegrationResult> {
    const { session, signal } = this.opts;
    const start = this.now();
    const onAbort = () => this.fail(new ReintegrationError("reintegration stopped (stopResync)"));
    signal?.addEventListener("abort", onAbort);
    if (signal?.aborted) onAbort();
    void session.closed.then((reason) =>
      this.fail(new ReintegrationError(`replication connection lost: ${reason}`))
    );
    try {
      // Installed first: from here on every live op is either applied or leaves its name dirty.
      session.setInterceptor({ onOp: (dir, op) => this.onOp(dir, op) });
      await this.checkToCheck();
      await this.chooseStrategies();
      for (let d = 0; d < this.roots.length; d++) {
        this.opts.log?.("I", `Updating directory tree from ${this.opts.dirs[d].dir}`);
        if (this.strategyNotes[d] !== undefined) this.opts.log?.("I", this.strategyNotes[d]!);
        this.push({ kind: "resync", dir: d, path: "." }); // the root starts dirty: stat it, then list it
      }
      const workers = Array.from({ length: Math.max(1, this.opts.nbRei) }, () => this.worker());
      await Promise.all(workers);
      if (this.failure) throw this.failure;
      const elapsedMs = this.now() - start;
      if (this.stats.filesCopied > 0) this.opts.log?.("I", `Copied ${formatStats(this.stats, elapsedMs)}`);
      this.opts.log?.("I", "Reintegration ended (synchronize)");
      this.progress(100);
      const syncPoints = this.answers.map((
        a,
      ) => (a === null ? null : { mapId: a.mapId, generation: a.generation + 1 }));
      return { ...this.stats, elapsedMs, strategies: this.strategies, syncPoints };
    } catch (e) {
      session.markUnsynced();
      this.finished = true;
      this.wakeAll();
      throw e;
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  // ---- workers ----

  private push(t: Task): void {
    if (t.kind === "copy" && this.deferCopies !== null) {
      this.deferCopies.push(t); // queued (and counted) when the directory's answer is in
      return;
    }
    (t.kind === "copy" ? this.copyQueue : this.listQueue).push(t);
    this.totalWeight += taskWeight(t);
    this.wakeAll();
  }

  private wakeAll(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async worker(): Promise<void> {
    for (;;) {
      if (this.failure || this.finished) return;
      // Listings first: they find the work (and the totals that progress is measured against).
      const task = this.listQueue.shift() ?? this.copyQueue.shift();
      if (task === undefined) {
        if (this.active === 0) return this.complete();
        await new Promise<void>((r) => this.waiters.push(r));
        continue;
      }
      this.active++;
      try {
        if (task.kind === "list") await this.list(task.dir, task.path);
        else if (task.kind === "resync") await this.resync(task.dir, task.path);
        else if (task.ranges !== undefined) {
          await this.copyZones(task.dir, task.path, task.token, task.ranges);
        } else await this.copy(task.dir, task.path, task.token);
      } catch (e) {
        this.fail(e as Error);
      } finally {
        this.active--;
        this.doneWeight += taskWeight(task);
        this.progress(Math.min(99, Math.floor((100 * this.doneWeight) / Math.max(1, this.totalWeight))));
        this.wakeAll();
      }
    }
  }

  /** Nothing queued and nothing running: the trees are equal at this point of the stream. */
  private complete(): void {
    if (this.finished || this.failure) return;
    const pending = this.states.find((s) => !s.isComplete());
    if (pending !== undefined) {
      this.fail(
        new ReintegrationError(`internal: work left without a task (${JSON.stringify(pending.counts())})`),
      );
      return;
    }
    this.finished = true;
    // Synchronous with the check above: no op can slip between "complete" and "apply every op".
    this.opts.session.markSynced();
    this.wakeAll();
  }

  private fail(e: Error): void {
    if (this.failure || this.finished) return;
    this.failure = e;
    this.opts.session.markUnsynced();
    this.wakeAll();
  }

  private progress(percent: number): void {
    if (percent > this.lastPercent) {
      this.lastPercent = percent;
      this.opts.onProgress?.(percent);
    }
  }

  private request<T>(
    req: { kind: "list" | "stat" | "read"; dir: number; path: string; offset?: number; length?: number },
    handler: (reply: ReiReply) => T | Promise<T>,
  ): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return this.opts.session.request(req, (reply) => {
      // A failed or finished reintegration must not touch the tree any more.
      if (this.failure) throw this.failure;
      return handler(reply);
    }, this.opts.reiTimeoutMs);
  }

  /** reiallowedbw: waits until reading `bytes` more keeps the average under the cap. */
  private async throttle(bytes: number): Promise<void> {
    const kbs = this.opts.reiAllowedBwKBs;
    if (kbs === undefined || kbs <= 0) return;
    const now = this.now();
    if (this.bwBytes === 0) this.bwStart = now;
    const earliest = this.bwStart + (this.bwBytes / (kbs * 1024)) * 1000;
    this.bwBytes += bytes;
    if (earliest > now) await new Promise((r) => setTimeout(r, earliest - now));
  }

  // ---- tasks (requests; their handlers run in stream order) ----

  private async checkToCheck(): Promise<void> {
    for (let d = 0; d < this.opts.dirs.length; d++) {
      for (const path of this.opts.dirs[d].toCheck ?? []) {
        const missing = await this.request({ kind: "stat", dir: d, path }, (reply) => reply.errno !== 0);
        if (missing) {
          throw new ReintegrationError(
            `<tocheck path="${path}">: ${this.opts.dirs[d].dir}/${path} does not exist on the primary; ` +
              "reintegration refused (is its file system mounted?)",
          );
        }
      }
    }
  }

  private async list(dir: number, path: string): Promise<void> {
    if (this.answers[dir] === null) {
      await this.request({ kind: "list", dir, path }, (reply) => this.onList(dir, path, reply, null, null));
      return;
    }
    // The directory answer (zones, xattrs, links) is asked right behind the listing: ops between the two
    // replies are applied best effort to the files held "copying" and are in the answer too (the primary
    // notes every op first).
    const held: Held[] | null = this.strategies[dir] === "zones" ? [] : null;
    const names: Listed = { names: [], copies: [] };
    const listed = this.request(
      { kind: "list", dir, path },
      (reply) => this.onList(dir, path, reply, held, names),
    );
    const answered = this.request(
      { kind: "read", dir, path, offset: ZONE_QUERY_OFFSET, length: 0 },
      (reply) => this.onDirAnswer(dir, path, reply, held ?? [], names),
    );
    await Promise.all([listed, answered]);
  }

  /** Asks each directory's zone map for its identity and decides how to reintegrate the directory. */
  private async chooseStrategies(): Promise<void> {
    for (let d = 0; d < this.roots.length; d++) {
      const a = await this.request(
        { kind: "read", dir: d, path: ".", offset: ZONE_QUERY_OFFSET, length: 0 },
        (reply) => {
          if (reply.errno !== 0 || reply.data === undefined) return null; // no zone map on the primary
          try {
            return decodeZoneAnswer(reply.data);
          } catch {
            return null; // a primary that reads the offset as file data: it keeps no zone map either
          }
        },
      );
      this.answers[d] = a;
      if (this.opts.mode !== "zones") continue;
      const rec = this.opts.zones?.records[d] ?? null;
      const name = this.opts.dirs[d].dir;
      if (a !== null && rec !== null && rec.mapId === a.mapId && rec.generation === a.generation) {
        if (a.trusted && rec.clean) {
          this.strategies[d] = "zones";
          this.strategyNotes[d] = `Copying the modified zones recorded by the primary for ${name}`;
          continue;
        }
        if (a.sinceMs !== null) {
          const since = a.sinceMs - (this.opts.zones?.graceMs ?? HOUR_MS);
          this.strategies[d] = "date";
          this.since[d] = since;
          const why = a.trusted ? "this node was not stopped cleanly" : "the primary was not stopped cleanly";
          this.strategyNotes[d] =
            `Modification bitmaps not usable for ${name} (${why}): copying files modified since ${
              new Date(since).toISOString()
            }`;
          continue;
        }
      }
      // Without zone options the caller keeps no sync record: comparing is what it asked for.
      if (this.opts.zones === undefined) continue;
      this.strategyNotes[d] =
        `No common sync point with the primary for ${name}: copying files whose size or date differ`;
    }
  }

  private async resync(dir: number, path: string): Promise<void> {
    await this.request({ kind: "stat", dir, path }, (reply) => this.onResyncStat(dir, path, reply));
  }

  private async copy(dir: number, path: string, token: number): Promise<void> {
    if (await this.linkInsteadOfCopy(dir, path, token)) return;
    await this.copyWhole(dir, path, token);
    await this.extrasAfter(dir, path);
  }

  private async copyWhole(dir: number, path: string, token: number): Promise<void> {
    let offset = 0;
    for (;;) {
      await this.throttle(this.packet);
      const next = await this.request(
        { kind: "read", dir, path, offset, length: this.packet },
        (reply) => this.onRead(dir, path, offset, reply, token),
      );
      if (next === null) return;
      offset = next;
    }
  }

  // ---- handlers: run in stream order, synchronously ----

  /** Copies the given byte ranges of a file, then truncates it to the primary's size and sets attributes. */
  private async copyZones(dir: number, path: string, token: number, ranges: readonly ByteRange[]) {
    if (await this.linkInsteadOfCopy(dir, path, token)) return;
    await this.copyZoneRanges(dir, path, token, ranges);
    await this.extrasAfter(dir, path);
  }

  private async copyZoneRanges(dir: number, path: string, token: number, ranges: readonly ByteRange[]) {
    const inFlight: { p: Promise<boolean>; bytes: number }[] = [];
    let bytes = 0;
    for (const r of ranges) {
      for (let off = r.offset; off < r.offset + r.length; off += this.packet) {
        const len = Math.min(this.packet, r.offset + r.length - off);
        await this.throttle(len);
        const p = this.request(
          { kind: "read", dir, path, offset: off, length: len },
          (reply) => this.onZoneRead(dir, path, off, reply, token),
        );
        inFlight.push({ p, bytes: len });
        bytes += len;
        while (bytes > ZONE_WINDOW_BYTES) {
          const first = inFlight.shift()!;
          bytes -= first.bytes;
          if (!(await first.p)) return;
        }
      }
    }
    for (const f of inFlight) if (!(await f.p)) return;
    await this.request({ kind: "stat", dir, path }, (reply) => this.onZoneFinal(dir, path, reply, token));
  }

  private onList(
    dir: number,
    path: string,
    reply: ReiReply,
    held: Held[] | null,
    names: Listed | null,
  ): void {
    const st = this.states[dir];
    if (!st.isSynced(path) || st.isListed(path)) return; // moved or re-read meanwhile
    if (reply.errno === ENOENT || reply.errno === ENOTDIR || reply.errno === ELOOP) {
      if (st.markDirty(path)) this.push({ kind: "resync", dir, path });
      return;
    }
    if (reply.errno !== 0 || reply.entries === undefined) {
      throw new ReintegrationError(`listing ${path} on the primary failed with errno ${reply.errno}`);
    }
    const root = this.roots[dir].fd;
    const local = listEntries(root, path);
    if (typeof local === "number") {
      throw new ReintegrationError(`listing ${path} on this node failed with errno ${-local}`);
    }
    const join = (name: string) => (path === "." ? name : `${path}/${name}`);
    const primary = new Map(reply.entries.map((e) => [e.name, e]));
    const filter = this.filters[dir];
    for (const l of local.entries) {
      const p = join(l.name);
      if (primary.has(l.name) || !filter.isReplicated(p, l.type === "dir")) continue;
      this.deleteLocal(dir, p);
      st.forget(p);
    }
    const localByName = new Map(local.entries.map((e) => [e.name, e]));
    for (const e of reply.entries) {
      const p = join(e.name);
      if (!filter.isReplicated(p, e.type === "dir")) continue;
      names?.names.push(e.name);
      const l = localByName.get(e.name);
      if (held !== null && e.type === "file" && l?.type === "file") {
        // Decided by the zone answer that follows this reply; "copying" until then (ops best effort).
        st.forget(p);
        st.setCopying(p);
        this.copies.set(resumeKey(dir, p), { token: this.nextToken++, zones: true, changes: null });
        held.push({ path: p, name: e.name, p: e, localSize: l.size, localMtimeMs: mtimeMs(l) });
        this.stats.entriesChecked++;
        continue;
      }
      this.deferCopies = names?.copies ?? null;
      try {
        this.reconcile(dir, p, e, l, false);
      } finally {
        this.deferCopies = null;
      }
    }
    st.markListed(path);
  }

  /** The answer for a listed directory: zones of the held files, then xattrs and hard links. */
  private onDirAnswer(dir: number, path: string, reply: ReiReply, held: Held[], listed: Listed): void {
    try {
      this.applyDirAnswer(dir, path, reply, held, listed.names);
    } finally {
      // Copies of this listing start only now, so that a second name knows it is one.
      for (const t of listed.copies) {
        if (t.kind === "copy" && this.copies.get(resumeKey(dir, t.path))?.token === t.token) this.push(t);
      }
    }
  }

  private applyDirAnswer(dir: number, path: string, reply: ReiReply, held: Held[], names: string[]): void {
    if (this.failure || this.finished) return;
    let a: ZoneAnswer | null = null;
    try {
      if (reply.errno === 0 && reply.data !== undefined) a = decodeZoneAnswer(reply.data);
    } catch { /* treated as "nothing known": every held file is copied whole */ }
    this.decideHeld(dir, a, held);
    if (a === null || a.extras === null) return;
    const st = this.states[dir];
    const root = this.roots[dir].fd;
    const join = (name: string) => (path === "." ? name : `${path}/${name}`);
    if (path === "." && a.self !== null) applyXattrs(root, ".", a.self.xattrs);
    for (const name of names) {
      const p = join(name);
      const status = st.statusOf(p) ?? (st.isSynced(p) ? "synced" : undefined);
      if (status !== "synced" && status !== "copying") continue;
      const x = a.extras.get(name) ?? NO_EXTRAS;
      if (typeof statEntry(root, p) === "number") {
        // Created by its copy, later: its xattrs are read again once it is in sync.
        if (x.xattrs.length > 0) this.extrasAfterCopy.add(resumeKey(dir, p));
      } else if (applyXattrs(root, p, x.xattrs) < 0 && status === "copying") {
        this.extrasAfterCopy.add(resumeKey(dir, p));
      }
      if (x.ino !== null) this.onLinkName(dir, p, `${dir}:${x.ino}`, status);
    }
  }

  /** A name of a file with several names on the primary: the first one is copied, the others linked. */
  private onLinkName(dir: number, p: string, groupKey: string, status: "synced" | "copying"): void {
    const root = this.roots[dir].fd;
    const g = this.links.get(groupKey);
    if (g === undefined) {
      const first: LinkGroup = { first: p, localIno: status === "synced" ? localInode(root, p) : null };
      this.links.set(groupKey, first);
      this.linkFirsts.set(resumeKey(dir, p), first);
      return;
    }
    if (g.first === p) return;
    if (this.linkNow(dir, p, g)) return;
    this.linkWanted.set(resumeKey(dir, p), groupKey);
  }

  /**
   * Makes `p` a hard link to its group's first name if that one is in sync and still the inode it was
   * made from (then it is still the primary's inode that `p` names at this point of the stream).
   */
  private linkNow(dir: number, p: string, g: LinkGroup): boolean {
    const st = this.states[dir];
    const root = this.roots[dir].fd;
    if (g.localIno === null || !st.isSynced(g.first) || localInode(root, g.first) !== g.localIno) {
      return false;
    }
    if (localInode(root, p) !== g.localIno) {
      this.deleteLocal(dir, p);
      this.applyLocal(dir, { kind: "link", path: g.first, newPath: p });
    }
    this.copies.delete(resumeKey(dir, p));
    this.linkWanted.delete(resumeKey(dir, p));
    st.forget(p);
    st.setSynced(p);
    return true;
  }

  /** Before copying a second name: wait for the first to settle, then link if it still names the same inode. */
  private async linkInsteadOfCopy(dir: number, path: string, token: number): Promise<boolean> {
    const groupKey = this.linkWanted.get(resumeKey(dir, path));
    const g = groupKey === undefined ? undefined : this.links.get(groupKey);
    if (g === undefined) return false;
    const deadline = this.now() + this.opts.reiTimeoutMs;
    while (this.states[dir].statusOf(g.first) === "copying" && this.now() < deadline && !this.failure) {
      await new Promise((r) => setTimeout(r, 5));
    }
    return await this.request(
      { kind: "read", dir, path, offset: ZONE_QUERY_OFFSET + 1, length: 0 },
      (reply) => {
        if (!this.isCurrentCopy(dir, path, token) || reply.errno !== 0 || reply.data === undefined) {
          return false;
        }
        const x = decodeEntryExtras(reply.data);
        return `${dir}:${x.ino}` === groupKey && this.linkNow(dir, path, g);
      },
    );
  }

  /** After a copy: the xattrs of a file created by it, read at this point of the stream. */
  private async extrasAfter(dir: number, path: string): Promise<void> {
    if (!this.extrasAfterCopy.delete(resumeKey(dir, path))) return;
    await this.request({ kind: "read", dir, path, offset: ZONE_QUERY_OFFSET + 1, length: 0 }, (reply) => {
      if (!this.states[dir].isSynced(path) || reply.errno !== 0 || reply.data === undefined) return;
      if (typeof statEntry(this.roots[dir].fd, path) === "number") return;
      applyXattrs(this.roots[dir].fd, path, decodeEntryExtras(reply.data).xattrs);
    });
  }

  /** Zone strategy: decides each held file (synced, zones, or whole) from the directory's answer. */
  private decideHeld(dir: number, a: ZoneAnswer | null, held: Held[]): void {
    if (held.length === 0) return;
    const st = this.states[dir];
    const head = this.answers[dir]!;
    const usable = a !== null && a.mapId === head.mapId && a.generation === head.generation && a.trusted &&
      !a.allWhole && !a.overflow;
    const resume = this.opts.zones?.resume;
    const stoppedAt = this.opts.zones?.records[dir]?.stoppedAtMs;
    for (const h of held) {
      const key = resumeKey(dir, h.path);
      const info = this.copies.get(key);
      if (st.statusOf(h.path) !== "copying" || info === undefined || !info.zones) continue;
      // A file with several names: a change made through another name is recorded under that name only.
      // Same for a name that shared its inode at the sync point (the other name may be gone since).
      const linked = (a?.extras?.get(h.name)?.ino ?? null) !== null ||
        localLinkCount(this.roots[dir].fd, h.path) > 1;
      let z = usable && !linked ? a!.files.get(h.name) : WHOLE;
      // Written on this node after its clean stop: not what the sync point says, whatever the map.
      const touchedHere = stoppedAt !== undefined && h.localMtimeMs > stoppedAt;
      if (z === undefined) {
        // Not changed since the sync point. The size check only guards against a map that lies.
        if (h.localSize === h.p.size && !touchedHere) {
          st.setSynced(h.path);
          continue;
        }
        z = WHOLE;
      }
      if (z !== WHOLE && resume?.get(key) === z.changes) {
        this.stats.filesResumed++;
        st.setSynced(h.path);
        continue;
      }
      if (touchedHere) z = WHOLE;
      this.copies.set(key, { token: info.token, zones: !z.whole, changes: z === WHOLE ? null : z.changes });
      const ranges = z.whole
        ? undefined
        : rangesToCopy(z.bits, z.tailFrom, a!.zoneSize, zoneSpan(z, h, a!.zoneSize));
      this.push({ kind: "copy", dir, path: h.path, size: h.p.size, token: info.token, ranges });
    }
  }

  private onResyncStat(dir: number, path: string, reply: ReiReply): void {
    const st = this.states[dir];
    if (st.statusOf(path) !== "dirty") return; // already re-read
    if (path === "." && (reply.errno !== 0 || reply.entry?.type !== "dir")) {
      throw new ReintegrationError(
        `${this.opts.dirs[dir].dir} on the primary is not a readable directory (errno ${reply.errno})`,
      );
    }
    if (reply.errno === ENOENT || reply.errno === ENOTDIR || reply.errno === ELOOP) {
      this.deleteLocal(dir, path);
      st.forget(path);
      st.setSynced(path);
      return;
    }
    if (reply.errno !== 0 || reply.entry === undefined) {
      throw new ReintegrationError(`stat of ${path} on the primary failed with errno ${reply.errno}`);
    }
    if (!this.filters[dir].isReplicated(path, reply.entry.type === "dir")) {
      st.forget(path);
      return;
    }
    const local = statEntry(this.roots[dir].fd, path);
    this.reconcile(dir, path, reply.entry, typeof local === "number" ? undefined : local, true);
  }

  private isCurrentCopy(dir: number, path: string, token: number): boolean {
    return this.states[dir].statusOf(path) === "copying" &&
      this.copies.get(resumeKey(dir, path))?.token === token;
  }

  /** A zone read: writes the bytes in place; false when the file is no longer ours to patch. */
  private onZoneRead(
    dir: number,
    path: string,
    offset: number,
    reply: ReiReply,
    token: number,
  ): boolean | Promise<boolean> {
    if (!this.isCurrentCopy(dir, path, token)) return false;
    if (!this.checkReadReply(dir, path, reply)) return false;
    const data = reply.data!;
    const done = () => {
      this.stats.bytesCopied += data.length;
      this.opts.session.recycleReplyData(data);
      return true;
    };
    const written = this.writeChunk(dir, path, offset, data, false, null, reply.entry!);
    return written === undefined ? done() : written.then(done);
  }

  /** After the zones: the primary's size and attributes at this point of the stream. */
  private onZoneFinal(dir: number, path: string, reply: ReiReply, token: number): void {
    if (!this.isCurrentCopy(dir, path, token)) return;
    if (!this.checkReadReply(dir, path, reply, true)) return;
    const e = reply.entry!;
    this.writeChunk(dir, path, 0, new Uint8Array(0), false, e.size, e);
    this.finishFile(dir, path, e);
  }

  /** Handles a failed read/stat of a file being copied; true when the reply can be used. */
  private checkReadReply(dir: number, path: string, reply: ReiReply, statOnly = false): boolean {
    const st = this.states[dir];
    if (reply.errno === ENOENT || reply.errno === ENOTDIR || reply.errno === ELOOP) {
      this.deleteLocal(dir, path); // gone on the primary at this point of the stream
      st.setSynced(path);
      return false;
    }
    if (
      reply.errno !== 0 || reply.entry?.type !== "file" || (!statOnly && reply.data === undefined)
    ) {
      if (st.markDirty(path)) this.push({ kind: "resync", dir, path }); // e.g. replaced by a directory
      return false;
    }
    return true;
  }

  /** Owner before mode (chown clears setuid bits), then the primary's mtime so a later compare finds it equal. */
  private finishFile(dir: number, path: string, e: TreeEntry): void {
    this.applyLocal(dir, {
      kind: "setattr",
      path,
      uid: e.uid,
      gid: e.gid,
      mode: e.mode & S_PERM,
      mtime: { sec: e.mtimeSec, nsec: e.mtimeNsec },
    });
    this.stats.filesCopied++;
    this.states[dir].setSynced(path);
    const g = this.linkFirsts.get(resumeKey(dir, path));
    if (g !== undefined && g.localIno === null) g.localIno = localInode(this.roots[dir].fd, path);
    const info = this.copies.get(resumeKey(dir, path));
    this.copies.delete(resumeKey(dir, path));
    if (info?.changes !== null && info?.changes !== undefined) {
      this.opts.zones?.onFileDone?.(dir, path, info.changes);
    }
  }

  /** Returns the next offset to read, or null when the file is done (or no longer ours to copy). */
  private onRead(
    dir: number,
    path: string,
    offset: number,
    reply: ReiReply,
    token: number,
  ): number | null | Promise<number | null> {
    const st = this.states[dir];
    if (!this.isCurrentCopy(dir, path, token)) return null;
    if (reply.errno === ENOENT || reply.errno === ENOTDIR || reply.errno === ELOOP) {
      this.deleteLocal(dir, path); // gone on the primary at this point of the stream
      st.setSynced(path);
      return null;
    }
    if (reply.errno !== 0 || reply.entry === undefined || reply.data === undefined) {
      if (st.markDirty(path)) this.push({ kind: "resync", dir, path }); // e.g. replaced by a directory
      return null;
    }
    const root = this.roots[dir].fd;
    const e = reply.entry;
    if (offset === 0) {
      const local = statEntry(root, path);
      if (typeof local !== "number" && local.type !== "file") this.deleteLocal(dir, path);
    }
    const end = offset + reply.data.length;
    const final = end >= e.size || reply.data.length === 0;
    const data = reply.data;
    const done = (): number | null => {
      this.stats.bytesCopied += data.length;
      this.opts.session.recycleReplyData(data); // written: its buffer can receive the next reply
      if (!final) return end;
      this.finishFile(dir, path, e);
      return null;
    };
    const written = this.writeChunk(dir, path, offset, data, offset === 0, final ? e.size : null, e);
    return written === undefined ? done() : written.then(done);
  }

  /** Makes the local entry at `path` match the primary's `p`, or queues its copy/listing. */
  private reconcile(
    dir: number,
    path: string,
    p: TreeEntry,
    l: TreeEntry | undefined,
    forceCopy: boolean,
  ): void {
    const st = this.states[dir];
    this.stats.entriesChecked++;
    if (l !== undefined && l.type !== p.type) {
      this.deleteLocal(dir, path);
      l = undefined;
    }
    switch (p.type) {
      case "dir":
        if (l === undefined) {
          this.applyLocal(dir, { kind: "mkdir", path, mode: p.mode & S_PERM, uid: p.uid, gid: p.gid });
        } else this.setAttrs(dir, path, p, l);
        st.setDirPendingList(path);
        this.push({ kind: "list", dir, path });
        return;
      case "symlink":
        if (l === undefined || l.target !== p.target) {
          if (l !== undefined) this.deleteLocal(dir, path);
          this.applyLocal(dir, { kind: "symlink", path, target: p.target!, uid: p.uid, gid: p.gid });
        } else if (l.uid !== p.uid || l.gid !== p.gid) {
          this.applyLocal(dir, { kind: "setattr", path, uid: p.uid, gid: p.gid });
        }
        st.forget(path);
        st.setSynced(path);
        return;
      case "other":
        if (l === undefined || l.mode !== p.mode || l.rdev !== p.rdev) {
          if (l !== undefined) this.deleteLocal(dir, path);
          this.applyLocal(dir, { kind: "mknod", path, mode: p.mode, rdev: p.rdev, uid: p.uid, gid: p.gid });
        } else this.setAttrs(dir, path, p, l);
        st.forget(path);
        st.setSynced(path);
        return;
      case "file": {
        if (forceCopy || this.differs(dir, p, l)) {
          st.forget(path);
          st.setCopying(path);
          const token = this.nextToken++;
          this.copies.set(resumeKey(dir, path), { token, zones: false, changes: null });
          this.push({ kind: "copy", dir, path, size: p.size, token });
          return;
        }
        this.setAttrs(dir, path, p, l);
        st.forget(path);
        st.setSynced(path);
        return;
      }
    }
  }

  private differs(dir: number, p: TreeEntry, l: TreeEntry | undefined): boolean {
    if (l === undefined || l.size !== p.size) return true;
    const s = this.strategies[dir];
    if (s === "full") return true;
    if (s === "date") return p.mtimeSec * 1000 + p.mtimeNsec / 1e6 >= this.since[dir];
    return l.mtimeSec !== p.mtimeSec || l.mtimeNsec !== p.mtimeNsec;
  }

  private setAttrs(dir: number, path: string, p: TreeEntry, l: TreeEntry | number | undefined): void {
    if (l === undefined || typeof l === "number") return;
    const op: { -readonly [K in "uid" | "gid" | "mode"]?: number } = {};
    if (l.uid !== p.uid || l.gid !== p.gid) {
      op.uid = p.uid;
      op.gid = p.gid;
    }
    if ((l.mode & S_PERM) !== (p.mode & S_PERM) || op.uid !== undefined) op.mode = p.mode & S_PERM;
    if (Object.keys(op).length > 0) this.applyLocal(dir, { kind: "setattr", path, ...op });
  }

  /**
   * One open per reply: create (first), write, truncate to the primary's size (last). A large piece is
   * copied into the file off the JS thread (pwriteAllAsync), which meanwhile receives and verifies the next
   * replies: the promise then returned holds the session's queue, so nothing behind this reply is applied
   * before the piece is in the file.
   */
  private writeChunk(
    dir: number,
    path: string,
    offset: number,
    data: Uint8Array,
    first: boolean,
    finalSize: number | null,
    e: TreeEntry,
  ): void | Promise<void> {
    const fd = this.openChunk(dir, path, first, e);
    const finish = (written: number) => {
      try {
        chunkStep(path, "pwrite", written);
        if (finalSize !== null) {
          chunkStep(path, "ftruncate", sys.ftruncate(fd, BigInt(finalSize)) === 0 ? 0 : -errno());
        }
      } finally {
        sys.close(fd);
      }
    };
    if (data.length < ASYNC_COPY_BYTES) return finish(data.length > 0 ? pwriteAll(fd, data, offset) : 0);
    return pwriteAllAsync(fd, data, offset).then(finish, (err) => {
      sys.close(fd);
      throw err;
    });
  }

  /** Opens a file for a copied piece (created, with the primary's owner and mode, for the first). */
  private openChunk(dir: number, path: string, first: boolean, e: TreeEntry): number {
    // openat2 refuses a mode without O_CREAT.
    const flags = O_WRONLY | O_NOFOLLOW | O_CLOEXEC | (first ? O_CREAT : 0);
    const fd = openBeneath(this.roots[dir].fd, path, flags, first ? 0o600 : 0);
    chunkStep(path, "open", fd);
    if (first) {
      const r = setOwnerAndModeFd(fd, e.uid, e.gid, e.mode & S_PERM);
      if (r < 0) sys.close(fd);
      chunkStep(path, "fchown/fchmod", r);
    }
    return fd;
  }

  private applyLocal(dir: number, op: TreeOp): void {
    applyTreeOpSync(this.roots[dir].fd, op);
  }

  /** Removes `path` and everything below it on this node (nothing if absent). */
  private deleteLocal(dir: number, path: string): void {
    const root = this.roots[dir].fd;
    const e = statEntry(root, path);
    if (typeof e === "number") return;
    if (e.type === "dir") {
      const l = listEntries(root, path);
      if (typeof l !== "number") { for (const c of l.entries) this.deleteLocal(dir, `${path}/${c.name}`); }
      this.applyLocal(dir, { kind: "rmdir", path });
    } else this.applyLocal(dir, { kind: "unlink", path });
    this.stats.entriesDeleted++;
  }

  // ---- live ops ----

  private async onOp(dir: number, op: TreeOp): Promise<void> {
    const st = this.states[dir];
    if (this.failure || this.finished) return;
    const decision = st.decide(op);
    if (decision === "apply") {
      try {
        await applyTreeOp(this.roots[dir], op);
        st.afterApply(op);
        this.stats.opsApplied++;
      } catch {
        for (const p of st.dirtyAfter(op)) this.push({ kind: "resync", dir, path: p });
      }
      return;
    }
    if (decision === "bestEffort") {
      try {
        await applyTreeOp(this.roots[dir], op);
        this.stats.opsApplied++;
      } catch {
        // A whole copy in progress rewrites what this op would have changed; a zone copy does not. A copy
        // never carries xattrs: they are read again once the file is in sync.
        const p = (op as { path: string }).path;
        if (op.kind === "setxattr" || op.kind === "removexattr") this.extrasAfterCopy.add(resumeKey(dir, p));
        if (this.copies.get(resumeKey(dir, p))?.zones && st.markDirty(p)) {
          this.push({ kind: "resync", dir, path: p });
        }
      }
      st.afterBestEffort(op);
      return;
    }
    this.stats.opsDropped++;
    // A name below a directory not listed yet is not marked: that listing will show the op's effect.
    for (const p of st.dirtyAfter(op)) this.push({ kind: "resync", dir, path: p });
  }
}

/** Throws the reintegration error of a failed step of a copy (`r` < 0 is -errno). */
function chunkStep(path: string, step: string, r: number): void {
  if (r < 0) {
    throw new ReintegrationError(`copying ${path}: ${step} failed with ${errnoName[-r] ?? "errno " + -r}`);
  }
}

const mtimeMs = (e: TreeEntry) => e.mtimeSec * 1000 + e.mtimeNsec / 1e6;

/** How far the zones of a file reach: its size at the listing, or further if zones were written beyond. */
function zoneSpan(z: FileZones, h: Held, zoneSize: number): number {
  return Math.max(h.p.size, h.localSize, z.bits.length * 8 * zoneSize);
}

export function formatStats(
  s: { filesCopied: number; bytesCopied: number },
  elapsedMs: number,
): string {
  const secs = Math.max(elapsedMs, 1) / 1000;
  const mb = s.bytesCopied / (1 << 20);
  const kbs = Math.round(s.bytesCopied / 1024 / secs);
  return `${mb.toFixed(1)} MB in ${s.filesCopied} files in ${secs.toFixed(1)} s (${kbs} KB/s)`;
}
