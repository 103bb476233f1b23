// What the secondary knows, during a reintegration, about which names of one replicated tree already
// equal the primary's — and therefore what to do with each live op. Pure bookkeeping: no I/O.
//
// Everything here is updated in stream order (live ops and reintegration replies are processed one at a
// time, in the order the primary queued them), and every reply shows the primary's tree exactly at its
// place in the stream. A name is *synced* when the secondary's entry (or its absence) equals the
// primary's at the current stream position; applying an op keeps a synced name synced.
//
//   synced     explicitly, or by default when its parent directory has been *listed* (every child of a
//              listed directory was reconciled at the listing; a name not in the listing is absent on
//              both sides, and one created later arrives as an op on a synced name)
//   copying    a regular file whose copy is queued or running: ops on it are applied best effort, since
//              every byte range is rewritten by a read reply taken after them or stays as they left it
//   dirty      an op could not be applied faithfully (its name was not synced): the op is dropped and the
//              name is re-read from the primary (stat, then copy or list)
// Children of a directory that is not listed yet are not tracked: its listing will reflect their ops.

import type { TreeOp } from "./tree_op.ts";

export type PathStatus = "synced" | "copying" | "dirty";
export type OpDecision = "apply" | "bestEffort" | "drop";

export function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : path.slice(0, i);
}

export function opPaths(op: TreeOp): string[] {
  if (op.kind === "rename") return [op.from, op.to];
  if (op.kind === "link") return [op.path, op.newPath];
  return [op.path];
}

export class TreeSyncState {
  // The root starts dirty: the first thing reintegration does is read it (stat, then list).
  private readonly status = new Map<string, PathStatus>([[".", "dirty"]]);
  private readonly listed = new Set<string>();
  /** directories synced but not listed yet (each has a list task queued or running) */
  private readonly unlisted = new Set<string>();
  /** names whose status is copying or dirty */
  private readonly unsettled = new Set<string>(["."]);
  /**
   * parent -> children that carry some state themselves or below them, so that everything below a name
   * is found by walking its subtree instead of scanning every entry (a tree may have millions of names).
   */
  private readonly index = new Map<string, Set<string>>();

  private track(path: string): void {
    for (let p = path; p !== ".";) {
      const parent = parentOf(p);
      let children = this.index.get(parent);
      if (children === undefined) this.index.set(parent, children = new Set());
      if (children.has(p)) return; // its ancestors are indexed already
      children.add(p);
      p = parent;
    }
  }

  /** Every indexed name strictly below `path`. */
  private descendants(path: string): string[] {
    const out: string[] = [];
    const stack = [...(this.index.get(path) ?? [])];
    while (stack.length > 0) {
      const p = stack.pop()!;
      out.push(p);
      for (const c of this.index.get(p) ?? []) stack.push(c);
    }
    return out;
  }

  statusOf(path: string): PathStatus | undefined {
    return this.status.get(path);
  }

  isListed(dir: string): boolean {
    return this.listed.has(dir);
  }

  isSynced(path: string): boolean {
    const s = this.status.get(path);
    return s === "synced" || (s === undefined && this.listed.has(parentOf(path)));
  }

  /** Every name is synced and every directory listed: the trees are equal. */
  isComplete(): boolean {
    return this.unlisted.size === 0 && this.unsettled.size === 0;
  }

  counts(): { unlisted: number; unsettled: number } {
    return { unlisted: this.unlisted.size, unsettled: this.unsettled.size };
  }

  private set(path: string, s: PathStatus): void {
    this.track(path);
    this.status.set(path, s);
    if (s === "synced") this.unsettled.delete(path);
    else this.unsettled.add(path);
  }

  setSynced(path: string): void {
    this.set(path, "synced");
  }

  setCopying(path: string): void {
    this.set(path, "copying");
  }

  /** A directory now exists on both sides with the primary's attributes; its listing is queued. */
  setDirPendingList(path: string): void {
    this.clearBelow(path);
    this.listed.delete(path);
    this.set(path, "synced");
    this.unlisted.add(path);
  }

  markListed(dir: string): void {
    this.track(dir);
    this.unlisted.delete(dir);
    this.listed.add(dir);
  }

  /** Forgets a name and everything below it (it was deleted locally at a listing). */
  forget(path: string): void {
    this.clearBelow(path);
    this.index.get(parentOf(path))?.delete(path);
    this.status.delete(path);
    this.unsettled.delete(path);
    this.listed.delete(path);
    this.unlisted.delete(path);
  }

  /**
   * Marks a name dirty; returns true when it newly became so (the caller queues its re-read). A name whose
   * parent is not listed and which has no status is left alone: the parent's listing will cover it.
   */
  markDirty(path: string): boolean {
    if (this.status.get(path) === "dirty") return false;
    if (!this.status.has(path) && !this.listed.has(parentOf(path))) return false;
    this.clearBelow(path);
    this.listed.delete(path);
    this.unlisted.delete(path);
    this.set(path, "dirty");
    return true;
  }

  /** What to do with a live op at this point of the stream. */
  decide(op: TreeOp): OpDecision {
    const paths = opPaths(op);
    if (paths.every((p) => this.isSynced(p))) {
      // A directory moved while parts of it are still being copied or listed would take its pending
      // work to a name nobody looks at: re-read both names instead.
      if (
        op.kind === "rename" && (this.hasUnsettledAtOrUnder(op.from) || this.hasUnsettledAtOrUnder(op.to))
      ) {
        return "drop";
      }
      return "apply";
    }
    if (paths.length === 1 && this.status.get(paths[0]) === "copying") return "bestEffort";
    return "drop";
  }

  /** After an op decided "apply" was applied successfully. */
  afterApply(op: TreeOp): void {
    switch (op.kind) {
      case "rename":
        if (op.flags & 2) this.exchange(op.from, op.to);
        else {
          this.forget(op.to);
          this.move(op.from, op.to);
          this.setSynced(op.from);
        }
        return;
      case "unlink":
      case "rmdir":
        this.forget(op.path);
        this.setSynced(op.path);
        return;
      case "mkdir":
        this.forget(op.path);
        this.setSynced(op.path);
        this.listed.add(op.path); // new and empty on both sides (tracked by setSynced)
        return;
      case "create":
      case "mknod":
      case "symlink":
        this.setSynced(op.path);
        return;
      case "link":
        this.setSynced(op.newPath);
        return;
      default:
        return;
    }
  }

  /** After an op decided "bestEffort" was applied (or failed: it does not matter). */
  afterBestEffort(op: TreeOp): void {
    if (op.kind === "unlink") this.setSynced(op.path); // absent on both sides now
  }

  /** Names to re-read after an op was dropped or failed to apply. */
  dirtyAfter(op: TreeOp): string[] {
    return opPaths(op).filter((p) => this.markDirty(p));
  }

  private hasUnsettledAtOrUnder(path: string): boolean {
    for (const p of [path, ...this.descendants(path)]) {
      if (this.unsettled.has(p) || this.unlisted.has(p)) return true;
    }
    return false;
  }

  private clearBelow(path: string): void {
    for (const p of this.descendants(path)) {
      this.status.delete(p);
      this.unsettled.delete(p);
      this.listed.delete(p);
      this.unlisted.delete(p);
      this.index.delete(p);
    }
    this.index.delete(path);
  }

  /** Entries of `from` and below, re-rooted at `to`; removes them from their old place. */
  private take(from: string): { rel: string; status?: PathStatus; listed: boolean; unlisted: boolean }[] {
    const out = [];
    for (const p of [from, ...this.descendants(from)]) {
      const e = { status: this.status.get(p), listed: this.listed.has(p), unlisted: this.unlisted.has(p) };
      if (e.status !== undefined || e.listed || e.unlisted) out.push({ rel: p.slice(from.length), ...e });
    }
    this.forget(from);
    return out;
  }

  private put(to: string, entries: ReturnType<TreeSyncState["take"]>): void {
    for (const e of entries) {
      const p = to + e.rel;
      this.track(p);
      if (e.status !== undefined) this.set(p, e.status);
      if (e.listed) this.listed.add(p);
      if (e.unlisted) this.unlisted.add(p);
    }
    if (!this.status.has(to)) this.setSynced(to);
  }

  private move(from: string, to: string): void {
    this.put(to, this.take(from));
  }

  private exchange(a: string, b: string): void {
    const ea = this.take(a), eb = this.take(b);
    this.put(b, ea);
    this.put(a, eb);
  }
}
