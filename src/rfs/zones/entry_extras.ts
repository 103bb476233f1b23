// What a reintegration needs beyond TreeEntry to copy an entry faithfully: its extended attributes and,
// for a regular file with several names, its inode number (hard links). Read on the primary beneath the
// root handle, synchronously (so an answer shows the tree at its place in the stream), and applied on the
// secondary. xattr names and values travel as they are; names not in the user, trusted or security
// namespace (system.*, e.g. POSIX ACLs) are carried too: `lsetxattr` refuses what the kernel refuses.

import { atParent, procPathAt } from "../beneath_root.ts";
import { decodeStat, STAT_SIZE } from "../fuse/fuse_abi.ts";
import { AT_SYMLINK_NOFOLLOW, cstr, errno, S_IFMT, S_IFREG, sys } from "../fuse/libc.ts";

export type Xattrs = readonly (readonly [string, Uint8Array])[];
export type EntryExtras = {
  readonly xattrs: Xattrs;
  readonly ino: bigint;
  readonly nlink: number;
  readonly file: boolean;
};

const ENODATA = 61, ERANGE = 34;
const strict = new TextDecoder("utf-8", { fatal: true });
const statBuf = new Uint8Array(STAT_SIZE);

/** `fn` with the /proc path of `path` beneath the root ("." = the root itself). */
function withProcPath<T>(
  rootFd: number,
  path: string,
  fn: (p: Uint8Array, dirfd: number, name: Uint8Array) => T,
): T | number {
  if (path === ".") return fn(procPathAt(rootFd, cstr(".")), rootFd, cstr("."));
  let out: T | number = -2;
  const r = atParent(rootFd, path, (dirfd, name) => {
    out = fn(procPathAt(dirfd, name), dirfd, name);
    return 0;
  });
  return r < 0 ? r : out;
}

function listXattrNames(p: Uint8Array): string[] | number {
  for (let size = 1024;; size *= 4) {
    const buf = new Uint8Array(size);
    const n = Number(sys.llistxattr(p, buf, BigInt(size)));
    if (n < 0) {
      const e = errno();
      if (e === ERANGE && size < 1 << 20) continue;
      return -e;
    }
    const names: string[] = [];
    let start = 0;
    for (let i = 0; i < n; i++) {
      if (buf[i] !== 0) continue;
      try {
        names.push(strict.decode(buf.subarray(start, i)));
      } catch { /* not UTF-8: cannot travel, skipped */ }
      start = i + 1;
    }
    return names;
  }
}

function getXattr(p: Uint8Array, name: string): Uint8Array | null {
  for (let size = 4096; size <= 1 << 20; size *= 4) {
    const buf = new Uint8Array(size);
    const n = Number(sys.lgetxattr(p, cstr(name), buf, BigInt(size)));
    if (n >= 0) return buf.slice(0, n);
    if (errno() !== ERANGE) return null; // removed meanwhile, or not readable
  }
  return null;
}

/** The xattrs and inode of `path`; -errno on failure. */
export function readExtras(rootFd: number, path: string): EntryExtras | number {
  return withProcPath(rootFd, path, (_p, dirfd, name) => readExtrasAt(dirfd, name)) as EntryExtras | number;
}

/** The xattrs and inode of the entry `name` (NUL-terminated) of the open directory `dirfd`. */
export function readExtrasAt(dirfd: number, name: Uint8Array): EntryExtras | number {
  if (sys.fstatat(dirfd, name, statBuf, AT_SYMLINK_NOFOLLOW) !== 0) return -errno();
  const st = decodeStat(statBuf);
  const p = procPathAt(dirfd, name);
  const names = listXattrNames(p);
  const xattrs: [string, Uint8Array][] = [];
  if (typeof names !== "number") {
    for (const n of names.sort()) {
      const v = getXattr(p, n);
      if (v !== null) xattrs.push([n, v]);
    }
  }
  return { xattrs, ino: st.ino, nlink: Number(st.nlink), file: (st.mode & S_IFMT) === S_IFREG };
}

const equalBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Makes the xattrs of `path` exactly `want`; returns 0 or -errno of the first failure. */
export function applyXattrs(rootFd: number, path: string, want: Xattrs): number {
  const r = withProcPath(rootFd, path, (p) => {
    const have = listXattrNames(p);
    if (typeof have === "number") return have === -95 && want.length === 0 ? 0 : have; // EOPNOTSUPP
    const wanted = new Map(want);
    for (const n of have) {
      if (wanted.has(n)) continue;
      if (sys.lremovexattr(p, cstr(n)) !== 0 && errno() !== ENODATA) return -errno();
    }
    for (const [n, v] of want) {
      const cur = have.includes(n) ? getXattr(p, n) : null;
      if (cur !== null && equalBytes(cur, v)) continue;
      if (sys.lsetxattr(p, cstr(n), v, BigInt(v.length), 0) !== 0) return -errno();
    }
    return 0;
  });
  return typeof r === "number" ? r : 0;
}

/** The local inode number of `path`, or null when absent or not a regular file. */
export function localInode(rootFd: number, path: string): bigint | null {
  const r = withProcPath(rootFd, path, (_p, dirfd, name) => {
    if (sys.fstatat(dirfd, name, statBuf, AT_SYMLINK_NOFOLLOW) !== 0) return null;
    const st = decodeStat(statBuf);
    return (st.mode & S_IFMT) === S_IFREG ? st.ino : null;
  });
  return typeof r === "number" ? null : r;
}

/** How many names the local regular file `path` has (0 when absent or not a regular file). */
export function localLinkCount(rootFd: number, path: string): number {
  const r = withProcPath(rootFd, path, (_p, dirfd, name) => {
    if (sys.fstatat(dirfd, name, statBuf, AT_SYMLINK_NOFOLLOW) !== 0) return 0;
    const st = decodeStat(statBuf);
    return (st.mode & S_IFMT) === S_IFREG ? Number(st.nlink) : 0;
  });
  return r < 0 ? 0 : r;
}
