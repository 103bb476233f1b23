// Replays a TreeOp on a directory tree: what the secondary runs for every op the primary sends, and what
// the primary's FUSE server runs for the ops whose local effect it does not compute itself.
//
// Paths are validated again here (the op may come from the network) and resolved beneath the root
// handle, so a hostile or stale op fails with an error instead of touching anything outside the tree.

import { atParent, openBeneath, procPathAt, type TreeRoot } from "./beneath_root.ts";
import { openTreeRoot } from "./beneath_root.ts";
import {
  AT_EMPTY_PATH,
  AT_REMOVEDIR,
  AT_SYMLINK_NOFOLLOW,
  cstr,
  EIO,
  errno,
  errnoName,
  O_CLOEXEC,
  O_CREAT,
  O_EXCL,
  O_NOFOLLOW,
  O_RDONLY,
  O_TRUNC,
  O_WRONLY,
  sys,
} from "./fuse/libc.ts";
import { type TreeOp, type TreeTime, validateTreeOp } from "./tree_op.ts";

export class TreeApplyError extends Error {
  override name = "TreeApplyError";
  constructor(readonly op: TreeOp, readonly errno: number, step: string) {
    const path = "path" in op ? op.path : `${op.from} -> ${op.to}`;
    super(
      `cannot apply ${op.kind} to "${path}": ${step} failed with ${errnoName[errno] ?? "errno " + errno}`,
    );
  }
}

/** -errno of the last synchronous call when `r` < 0. */
const check = (r: number | bigint): number => (Number(r) < 0 ? -errno() : Number(r));
const emptyPath = cstr("");

/** Applies `op` beneath `root` (an open TreeRoot, an O_PATH directory fd, or a directory path). */
export async function applyTreeOp(root: TreeRoot | number | string, op: TreeOp): Promise<void> {
  if (typeof root === "string") {
    const r = openTreeRoot(root);
    try {
      return await applyTreeOp(r.fd, op);
    } finally {
      r.close();
    }
  }
  const rootFd = typeof root === "number" ? root : root.fd;
  if (op.kind !== "fsync") return applyTreeOpSync(rootFd, op);
  validateTreeOp(op);
  const fd = openBeneath(rootFd, op.path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) throw new TreeApplyError(op, -fd, "open");
  try {
    // fsync runs off the JS thread (it may take long), so its errno is not observable: report EIO.
    const r = await (op.datasync ? sys.fdatasyncAsync(fd) : sys.fsyncAsync(fd));
    if (r !== 0) throw new TreeApplyError(op, EIO, "fsync");
  } finally {
    sys.close(fd);
  }
}

/**
 * Applies every op except fsync synchronously, on the calling (JS) thread: the FUSE server relies on
 * this to hand ops to its sink in exactly the order it applied them, with nothing interleaved.
 */
export function applyTreeOpSync(rootFd: number, op: TreeOp): void {
  validateTreeOp(op);
  const fail = (r: number, step: string) => {
    if (r < 0) throw new TreeApplyError(op, -r, step);
  };
  switch (op.kind) {
    case "write": {
      const fd = openBeneath(rootFd, op.path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
      fail(fd, "open");
      try {
        fail(pwriteAll(fd, op.data, op.offset), "pwrite");
      } finally {
        sys.close(fd);
      }
      return;
    }
    case "create": {
      const flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (op.exclusive ? O_EXCL : 0) |
        (op.truncate ? O_TRUNC : 0);
      const fd = openBeneath(rootFd, op.path, flags, op.mode & 0o7777);
      fail(fd, "open(O_CREAT)");
      try {
        fail(setOwnerAndModeFd(fd, op.uid, op.gid, op.mode), "fchown/fchmod");
      } finally {
        sys.close(fd);
      }
      return;
    }
    case "mkdir":
      fail(atParent(rootFd, op.path, (d, n) => check(sys.mkdirat(d, n, op.mode & 0o7777))), "mkdirat");
      fail(
        atParent(rootFd, op.path, (d, n) => setOwnerAndModeAt(d, n, op.uid, op.gid, op.mode)),
        "chown/chmod",
      );
      return;
    case "mknod":
      fail(
        atParent(rootFd, op.path, (d, n) => check(sys.mknodat(d, n, op.mode, BigInt(op.rdev)))),
        "mknodat",
      );
      fail(
        atParent(rootFd, op.path, (d, n) => setOwnerAndModeAt(d, n, op.uid, op.gid, op.mode)),
        "chown/chmod",
      );
      return;
    case "symlink":
      fail(atParent(rootFd, op.path, (d, n) => check(sys.symlinkat(cstr(op.target), d, n))), "symlinkat");
      fail(
        atParent(rootFd, op.path, (d, n) => check(sys.fchownat(d, n, op.uid, op.gid, AT_SYMLINK_NOFOLLOW))),
        "fchownat",
      );
      return;
    case "link":
      fail(
        atParent(
          rootFd,
          op.path,
          (d1, n1) => atParent(rootFd, op.newPath, (d2, n2) => check(sys.linkat(d1, n1, d2, n2, 0))),
        ),
        "linkat",
      );
      return;
    case "unlink":
    case "rmdir": {
      const flags = op.kind === "rmdir" ? AT_REMOVEDIR : 0;
      fail(atParent(rootFd, op.path, (d, n) => check(sys.unlinkat(d, n, flags))), op.kind);
      return;
    }
    case "rename":
      fail(
        atParent(
          rootFd,
          op.from,
          (d1, n1) => atParent(rootFd, op.to, (d2, n2) => check(sys.renameat2(d1, n1, d2, n2, op.flags))),
        ),
        "renameat2",
      );
      return;
    case "setattr":
      fail(applySetattr(rootFd, op), "setattr");
      return;
    case "fallocate": {
      const fd = openBeneath(rootFd, op.path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
      fail(fd, "open");
      try {
        fail(check(sys.fallocate(fd, op.mode, BigInt(op.offset), BigInt(op.length))), "fallocate");
      } finally {
        sys.close(fd);
      }
      return;
    }
    case "setxattr":
      fail(
        atParent(
          rootFd,
          op.path,
          (d, n) =>
            check(
              sys.lsetxattr(procPathAt(d, n), cstr(op.name), op.value, BigInt(op.value.length), op.flags),
            ),
        ),
        "lsetxattr",
      );
      return;
    case "removexattr":
      fail(
        atParent(rootFd, op.path, (d, n) => check(sys.lremovexattr(procPathAt(d, n), cstr(op.name)))),
        "lremovexattr",
      );
      return;
    case "fsync":
      throw new TypeError(
        "applyTreeOpSync: fsync must go through applyTreeOp (it does not block the JS thread)",
      );
  }
}

/** pwrite of the whole buffer (pwrite may write less than asked); returns bytes written or -errno. */
export function pwriteAll(fd: number, data: Uint8Array, offset: number): number {
  let done = 0;
  while (done < data.length) {
    const r = Number(sys.pwrite(fd, data.subarray(done), BigInt(data.length - done), BigInt(offset + done)));
    if (r < 0) return -errno();
    done += r;
  }
  return done;
}

/**
 * pwriteAll on a worker thread: the JS thread goes on (receiving and verifying the next frames) while the
 * kernel copies a large write. A nonblocking FFI call loses errno (libc.ts), so a failed call is retried
 * synchronously from where it stopped: pwrite is positional, writing the same bytes at the same offset
 * again is harmless, and the retry fails the same way with its errno readable. The buffer must not change
 * until the promise settles.
 */
export async function pwriteAllAsync(fd: number, data: Uint8Array, offset: number): Promise<number> {
  let done = 0;
  while (done < data.length) {
    const rest = data.subarray(done);
    const r = Number(await sys.pwriteAsync(fd, rest, BigInt(rest.length), BigInt(offset + done)));
    if (r < 0) {
      const again = pwriteAll(fd, rest, offset + done);
      return again < 0 ? again : done + again;
    }
    done += r;
  }
  return done;
}

/** Owner before mode: chown clears the setuid/setgid bits that the mode may set. */
export function setOwnerAndModeFd(fd: number, uid: number, gid: number, mode: number): number {
  const r = check(sys.fchownat(fd, emptyPath, uid, gid, AT_EMPTY_PATH));
  return r < 0 ? r : check(sys.fchmod(fd, mode & 0o7777));
}

export function setOwnerAndModeAt(
  dirfd: number,
  cname: Uint8Array,
  uid: number,
  gid: number,
  mode: number,
): number {
  const r = check(sys.fchownat(dirfd, cname, uid, gid, AT_SYMLINK_NOFOLLOW));
  return r < 0 ? r : check(sys.fchmodat(dirfd, cname, mode & 0o7777, 0));
}

const UTIME_OMIT = (1 << 30) - 2;

function timespecs(atime: TreeTime | undefined, mtime: TreeTime | undefined): Uint8Array {
  const b = new Uint8Array(32);
  const dv = new DataView(b.buffer);
  const put = (o: number, t: TreeTime | undefined) => {
    if (t === undefined) dv.setBigInt64(o + 8, BigInt(UTIME_OMIT), true);
    else {
      dv.setBigInt64(o, BigInt(t.sec), true);
      dv.setBigInt64(o + 8, BigInt(t.nsec), true);
    }
  };
  put(0, atime);
  put(16, mtime);
  return b;
}

function applySetattr(rootFd: number, op: Extract<TreeOp, { kind: "setattr" }>): number {
  return atParent(rootFd, op.path, (d, n) => {
    if (op.uid !== undefined || op.gid !== undefined) {
      const r = check(sys.fchownat(d, n, op.uid ?? 0xffffffff, op.gid ?? 0xffffffff, AT_SYMLINK_NOFOLLOW));
      if (r < 0) return r;
    }
    if (op.mode !== undefined) {
      const r = check(sys.fchmodat(d, n, op.mode & 0o7777, 0));
      if (r < 0) return r;
    }
    if (op.size !== undefined) {
      const fd = openBeneath(rootFd, op.path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) return fd;
      const r = check(sys.ftruncate(fd, BigInt(op.size)));
      sys.close(fd);
      if (r < 0) return r;
    }
    if (op.atime !== undefined || op.mtime !== undefined) {
      const r = check(sys.utimensat(d, n, timespecs(op.atime, op.mtime), AT_SYMLINK_NOFOLLOW));
      if (r < 0) return r;
    }
    return 0;
  });
}
