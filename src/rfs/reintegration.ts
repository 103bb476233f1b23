// Reintegration (resynchronization) of the secondary from the primary, while the application keeps
// writing on the primary (spec §7.2). Runs on the secondary, over the replication session the primary
// opened: it walks the primary's trees with list/stat/read requests, copies what differs, deletes what
// the primary does not have, and decides op by op what to do with the live ops meanwhile
// (reintegration_state.ts). When every name is synced, the session switches to applying every op and
// tells the primary ("synced"); from that moment the trees are equal and stay so.
//
// Modes (the automaton's startResync): "full" copies every file; "zones" and the default compare size and
// mtime and copy differing files entirely (no per-zone bitmaps yet: a modified file is copied whole);
// "date" copies files whose mtime is at or after `since`, plus missing ones and ones whose size differs.
// Every mode deletes what the primary does not have and reconciles directories, symlinks, special files,
// owners and modes. Extended attributes are not copied (acl="off").

import { applyTreeOp, applyTreeOpSync, pwriteAll, setOwnerAndModeFd } from "./apply_tree_op.ts";
import { openBeneath, type TreeRoot } from "./beneath_root.ts";
import { errno, errnoName, O_CLOEXEC, O_CREAT, O_NOFOLLOW, O_WRONLY, sys } from "./fuse/libc.ts";
import type { ReiReply, ReplicationSession } from "./replication_server.ts";
import { REPLICATE_ALL, type ReplicationFilter } from "./replication_filter.ts";
import { TreeSyncState } from "./reintegration_state.ts";
import { listEntries, statEntry, type TreeEntry } from "./tree_entry.ts";
import type { TreeOp } from "./tree_op.ts";
import { MAX_READ_BYTES } from "./protocol/messages.ts";

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
};

export type ReintegrationResult = {
  readonly filesCopied: number;
  readonly bytesCopied: number;
  readonly entriesDeleted: number;
  readonly entriesChecked: number;
  readonly opsApplied: number;
  readonly opsDropped: number;
  readonly elapsedMs: number;
};

export class ReintegrationError extends Error {
  override name = "ReintegrationError";
}

type Task =
  | { readonly kind: "list"; readonly dir: number; readonly path: string }
  | { readonly kind: "resync"; readonly dir: number; readonly path: string }
  | { readonly kind: "copy"; readonly dir: number; readonly path: string; readonly size: number };

const ENOENT = 2, ENOTDIR = 20, ELOOP = 40;
const S_PERM = 0o7777;
const taskWeight = (t: Task) => (t.kind === "copy" ? 1 + t.size / (1 << 20) : 1);

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
  };
  private readonly packet: number;

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
      for (let d = 0; d < this.roots.length; d++) {
        this.opts.log?.("I", `Updating directory tree from ${this.opts.dirs[d].dir}`);
        this.push({ kind: "resync", dir: d, path: "." }); // the root starts dirty: stat it, then list it
      }
      const workers = Array.from({ length: Math.max(1, this.opts.nbRei) }, () => this.worker());
      await Promise.all(workers);
      if (this.failure) throw this.failure;
      const elapsedMs = this.now() - start;
      if (this.stats.filesCopied > 0) this.opts.log?.("I", `Copied ${formatStats(this.stats, elapsedMs)}`);
      this.opts.log?.("I", "Reintegration ended (synchronize)");
      this.progress(100);
      return { ...this.stats, elapsedMs };
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
        else await this.copy(task.dir, task.path);
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
    handler: (reply: ReiReply) => T,
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
    await this.request({ kind: "list", dir, path }, (reply) => this.onList(dir, path, reply));
  }

  private async resync(dir: number, path: string): Promise<void> {
    await this.request({ kind: "stat", dir, path }, (reply) => this.onResyncStat(dir, path, reply));
  }

  private async copy(dir: number, path: string): Promise<void> {
    let offset = 0;
    for (;;) {
      await this.throttle(this.packet);
      const next = await this.request(
        { kind: "read", dir, path, offset, length: this.packet },
        (reply) => this.onRead(dir, path, offset, reply),
      );
      if (next === null) return;
      offset = next;
    }
  }

  // ---- handlers: run in stream order, synchronously ----

  private onList(dir: number, path: string, reply: ReiReply): void {
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
      this.reconcile(dir, p, e, localByName.get(e.name), false);
    }
    st.markListed(path);
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

  /** Returns the next offset to read, or null when the file is done (or no longer ours to copy). */
  private onRead(dir: number, path: string, offset: number, reply: ReiReply): number | null {
    const st = this.states[dir];
    if (st.statusOf(path) !== "copying") return null;
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
    this.writeChunk(dir, path, offset, reply.data, offset === 0, final ? e.size : null, e);
    this.stats.bytesCopied += reply.data.length;
    if (!final) return end;
    // Owner before mode (chown clears setuid bits), then the primary's mtime so a later compare finds it equal.
    this.applyLocal(dir, {
      kind: "setattr",
      path,
      uid: e.uid,
      gid: e.gid,
      mode: e.mode & S_PERM,
      mtime: { sec: e.mtimeSec, nsec: e.mtimeNsec },
    });
    this.stats.filesCopied++;
    st.setSynced(path);
    return null;
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
        if (forceCopy || this.differs(p, l)) {
          st.forget(path);
          st.setCopying(path);
          this.push({ kind: "copy", dir, path, size: p.size });
          return;
        }
        this.setAttrs(dir, path, p, l);
        st.forget(path);
        st.setSynced(path);
        return;
      }
    }
  }

  private differs(p: TreeEntry, l: TreeEntry | undefined): boolean {
    if (l === undefined || l.size !== p.size) return true;
    if (this.opts.mode === "full") return true;
    if (this.opts.mode === "date") return p.mtimeSec * 1000 >= (this.opts.since ?? 0);
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

  /** One open per reply: create (first), write, truncate to the primary's size (last). */
  private writeChunk(
    dir: number,
    path: string,
    offset: number,
    data: Uint8Array,
    first: boolean,
    finalSize: number | null,
    e: TreeEntry,
  ): void {
    // openat2 refuses a mode without O_CREAT.
    const flags = O_WRONLY | O_NOFOLLOW | O_CLOEXEC | (first ? O_CREAT : 0);
    const fd = openBeneath(this.roots[dir].fd, path, flags, first ? 0o600 : 0);
    const fail = (step: string, r: number) => {
      throw new ReintegrationError(`copying ${path}: ${step} failed with ${errnoName[-r] ?? "errno " + -r}`);
    };
    if (fd < 0) fail("open", fd);
    try {
      if (first) {
        const r = setOwnerAndModeFd(fd, e.uid, e.gid, e.mode & S_PERM);
        if (r < 0) fail("fchown/fchmod", r);
      }
      if (data.length > 0) {
        const r = pwriteAll(fd, data, offset);
        if (r < 0) fail("pwrite", r);
      }
      if (finalSize !== null && sys.ftruncate(fd, BigInt(finalSize)) !== 0) fail("ftruncate", -errno());
    } finally {
      sys.close(fd);
    }
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
      } catch { /* the copy in progress rewrites what this op would have changed */ }
      st.afterBestEffort(op);
      return;
    }
    this.stats.opsDropped++;
    // A name below a directory not listed yet is not marked: that listing will show the op's effect.
    for (const p of st.dirtyAfter(op)) this.push({ kind: "resync", dir, path: p });
  }
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
