// The secondary's open descriptors for consecutive writes: a stream of writes to the same few files (the
// common case: an application appending or rewriting its data files) costs one pwrite each instead of
// openat2 + pwrite + close. A descriptor is only valid while the path still names the file it was opened
// on, so the cache is emptied before any op other than a write is applied (every op that could rename,
// replace or remove a file is such an op), and whenever the session changes mode.

import { pwriteAll, TreeApplyError } from "./apply_tree_op.ts";
import { openBeneath } from "./beneath_root.ts";
import { O_CLOEXEC, O_NOFOLLOW, O_WRONLY, sys } from "./fuse/libc.ts";
import { type TreeOp, validateTreeOp } from "./tree_op.ts";

const MAX_OPEN = 64;

export class OpenWriteFiles {
  private readonly fds = new Map<string, number>();

  /** Applies a write op beneath `rootFd` (tree number `dir`), reusing an open descriptor. Throws TreeApplyError. */
  write(rootFd: number, dir: number, op: Extract<TreeOp, { kind: "write" }>): void {
    validateTreeOp(op);
    const key = `${dir}/${op.path}`;
    let fd = this.fds.get(key);
    if (fd === undefined) {
      fd = openBeneath(rootFd, op.path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) throw new TreeApplyError(op, -fd, "open");
      if (this.fds.size >= MAX_OPEN) {
        const [oldest, oldFd] = this.fds.entries().next().value!;
        this.fds.delete(oldest);
        sys.close(oldFd);
      }
      this.fds.set(key, fd);
    } else {
      // Most recently used last, so that the eviction above drops the least recently used.
      this.fds.delete(key);
      this.fds.set(key, fd);
    }
    const r = pwriteAll(fd, op.data, op.offset);
    if (r < 0) throw new TreeApplyError(op, -r, "pwrite");
  }

  /** Closes every descriptor (before any op that is not a write). */
  clear(): void {
    for (const fd of this.fds.values()) sys.close(fd);
    this.fds.clear();
  }
}
