// The secondary's open descriptors for consecutive writes: a stream of writes to the same few files (the
// common case: an application appending or rewriting its data files) costs one pwrite each instead of
// openat2 + pwrite + close. A descriptor is only valid while the path still names the file it was opened
// on, so the cache is emptied before any op other than a write is applied (every op that could rename,
// replace or remove a file is such an op), and whenever the session changes mode.

import { pwriteAll, pwriteAllAsync, TreeApplyError } from "./apply_tree_op.ts";
import { openBeneath } from "./beneath_root.ts";
import { O_CLOEXEC, O_NOFOLLOW, O_WRONLY, sys } from "./fuse/libc.ts";
import { type TreeOp, validateTreeOp } from "./tree_op.ts";
import { SequentialRuns, startWriteback } from "./writeback_start.ts";

const MAX_OPEN = 64;

export class OpenWriteFiles {
  private readonly fds = new Map<string, number>();

  /** Writes running on a worker thread (writeAsync): descriptors must stay open until they end. */
  private busy = 0;
  /** Descriptors dropped by clear() while a write was running: closed when the last one ends. */
  private readonly closeLater: number[] = [];
  private readonly runs = new SequentialRuns();

  /** Applies a write op beneath `rootFd` (tree number `dir`), reusing an open descriptor. Throws TreeApplyError. */
  write(rootFd: number, dir: number, op: Extract<TreeOp, { kind: "write" }>): void {
    const fd = this.descriptor(rootFd, dir, op);
    const r = pwriteAll(fd, op.data, op.offset);
    if (r < 0) throw new TreeApplyError(op, -r, "pwrite");
    this.wrote(fd, op);
  }

  /**
   * Same as write, with the copy into the file made off the JS thread (for large writes). The caller applies
   * ops one at a time (awaits this before the next op), which keeps them in stream order.
   */
  async writeAsync(rootFd: number, dir: number, op: Extract<TreeOp, { kind: "write" }>): Promise<void> {
    const fd = this.descriptor(rootFd, dir, op);
    this.busy++;
    let r: number;
    try {
      r = await pwriteAllAsync(fd, op.data, op.offset);
    } finally {
      if (--this.busy === 0) { for (const old of this.closeLater.splice(0)) sys.close(old); }
    }
    if (r < 0) throw new TreeApplyError(op, -r, "pwrite");
    this.wrote(fd, op);
  }

  /** A long sequential run starts its writeback (writeback_start.ts), as on the primary. */
  private wrote(fd: number, op: Extract<TreeOp, { kind: "write" }>): void {
    const range = this.runs.note(fd, op.offset, op.data.length);
    if (range !== null) startWriteback(fd, range);
  }

  private descriptor(rootFd: number, dir: number, op: Extract<TreeOp, { kind: "write" }>): number {
    validateTreeOp(op);
    const key = `${dir}/${op.path}`;
    let fd = this.fds.get(key);
    if (fd === undefined) {
      fd = openBeneath(rootFd, op.path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) throw new TreeApplyError(op, -fd, "open");
      if (this.fds.size >= MAX_OPEN) {
        const [oldest, oldFd] = this.fds.entries().next().value!;
        this.fds.delete(oldest);
        this.runs.forget(oldFd);
        sys.close(oldFd);
      }
      this.fds.set(key, fd);
    } else {
      // Most recently used last, so that the eviction above drops the least recently used.
      this.fds.delete(key);
      this.fds.set(key, fd);
    }
    return fd;
  }

  /** Closes every descriptor (before any op that is not a write); one being written, once that write ends. */
  clear(): void {
    for (const fd of this.fds.values()) {
      this.runs.forget(fd);
      if (this.busy > 0) this.closeLater.push(fd);
      else sys.close(fd);
    }
    this.fds.clear();
  }
}
