// What reintegration knows about one entry of a replicated tree, read synchronously beneath the root
// handle (never through the FUSE mount, which the same process may be serving).
//
// Synchronous on purpose: on the primary, a reintegration reply is read and queued on the replication
// stream in one stretch of JS, between two ops, so the reply shows the tree exactly as it was at its place
// in the stream (see docs/replication.md, "Reintegration while the application writes").

import { openBeneath } from "./beneath_root.ts";
import { decodeStat, STAT_SIZE } from "./fuse/fuse_abi.ts";
import {
  AT_SYMLINK_NOFOLLOW,
  cstr,
  errno,
  O_CLOEXEC,
  O_DIRECTORY,
  O_NOFOLLOW,
  O_RDONLY,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  sys,
} from "./fuse/libc.ts";

export type EntryType = "file" | "dir" | "symlink" | "other";
export const ENTRY_TYPES: readonly EntryType[] = ["file", "dir", "symlink", "other"];

export type TreeEntry = {
  readonly name: string;
  readonly type: EntryType;
  /** st_mode (type and permission bits) */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtimeSec: number;
  readonly mtimeNsec: number;
  readonly rdev: number;
  /** symlinks only */
  readonly target?: string;
};

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const statBuf = new Uint8Array(STAT_SIZE);
const linkBuf = new Uint8Array(4096);

function typeOf(mode: number): EntryType {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "file";
    case S_IFDIR:
      return "dir";
    case S_IFLNK:
      return "symlink";
    default:
      return "other";
  }
}

/** Stats `name` in the directory `dirfd` without following a final symlink; -errno on failure. */
function entryAt(dirfd: number, name: string, shownName: string): TreeEntry | number {
  const cname = cstr(name);
  if (sys.fstatat(dirfd, cname, statBuf, AT_SYMLINK_NOFOLLOW) !== 0) return -errno();
  const st = decodeStat(statBuf);
  const type = typeOf(st.mode);
  let target: string | undefined;
  if (type === "symlink") {
    const n = Number(sys.readlinkat(dirfd, cname, linkBuf, BigInt(linkBuf.length)));
    if (n < 0) return -errno();
    try {
      target = strictUtf8.decode(linkBuf.subarray(0, n));
    } catch {
      return -84; // EILSEQ: a target that is not UTF-8 cannot travel in a TreeOp
    }
  }
  return {
    name: shownName,
    type,
    mode: st.mode,
    uid: st.uid,
    gid: st.gid,
    size: Number(st.size),
    mtimeSec: Number(st.mtime),
    mtimeNsec: st.mtimeNsec,
    rdev: st.rdev,
    target,
  };
}

function splitParent(path: string): { parent: string; name: string } {
  const slash = path.lastIndexOf("/");
  return slash < 0
    ? { parent: ".", name: path }
    : { parent: path.slice(0, slash), name: path.slice(slash + 1) };
}

/** The entry at `path` ("." = the root, whose name is then "."); -errno on failure. */
export function statEntry(rootFd: number, path: string): TreeEntry | number {
  if (path === ".") return entryAt(rootFd, ".", ".");
  const { parent, name } = splitParent(path);
  const dirfd = parent === "." ? rootFd : openBeneath(rootFd, parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) return dirfd;
  try {
    return entryAt(dirfd, name, name);
  } finally {
    if (dirfd !== rootFd) sys.close(dirfd);
  }
}

export type Listing = {
  readonly entries: TreeEntry[]; /** names that are not UTF-8 (not replicable) */
  readonly skipped: number;
};

/** The entries of the directory `path` (without "." and ".."); -errno on failure. */
export function listEntries(rootFd: number, path: string): Listing | number {
  const fd = openBeneath(rootFd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fd;
  const dir = sys.fdopendir(fd);
  if (dir === null) {
    const e = -errno();
    sys.close(fd);
    return e;
  }
  const entries: TreeEntry[] = [];
  let skipped = 0;
  try {
    for (;;) {
      const d = sys.readdir(dir);
      if (d === null) break;
      const v = new Deno.UnsafePointerView(d);
      const reclen = v.getUint16(16);
      const raw = new Uint8Array(v.getArrayBuffer(reclen - 19, 19));
      const nameBytes = raw.subarray(0, raw.indexOf(0));
      let name: string;
      try {
        name = strictUtf8.decode(nameBytes);
      } catch {
        skipped++;
        continue;
      }
      if (name === "." || name === "..") continue;
      const e = entryAt(fd, name, name);
      if (typeof e === "number") {
        if (e === -2) continue; // removed between readdir and fstatat
        if (e === -84) {
          skipped++;
          continue;
        }
        return e;
      }
      entries.push(e);
    }
  } finally {
    sys.closedir(dir); // closes fd too
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { entries, skipped };
}

/**
 * A read at this offset or beyond is a zone-map query (src/rfs/zones/zone_query.ts), never file data: no
 * file system holds a file of 2^52 bytes, so no real read can be mistaken for one.
 */
export const ZONE_QUERY_OFFSET = 2 ** 52;
const ENOSYS = 38;

/**
 * Answers a zone-map query (`query` = offset − ZONE_QUERY_OFFSET: 0 = a directory's zones and extras,
 * 1 = one entry's extras) for `path` of the tree `rootFd`; null if it keeps no zone map.
 */
export type ZoneQueryHandler = (rootFd: number, path: string, query: number) => Uint8Array | null;
let zoneQueryHandler: ZoneQueryHandler | null = null;

/** Installed by the primary's process when it keeps zone maps (primary_process.ts); null removes it. */
export function setZoneQueryHandler(h: ZoneQueryHandler | null): void {
  zoneQueryHandler = h;
}

/**
 * Reads up to `length` bytes at `offset` of the regular file `path`, with its attributes at that moment.
 * `alloc` gives the buffer (a reused one: a fresh 8 MiB buffer costs page faults and zero-filling).
 */
export function readRange(
  rootFd: number,
  path: string,
  offset: number,
  length: number,
  alloc: (n: number) => Uint8Array = (n) => new Uint8Array(n),
): { entry: TreeEntry; data: Uint8Array } | number {
  if (offset >= ZONE_QUERY_OFFSET) {
    const entry = statEntry(rootFd, path);
    if (typeof entry === "number") return entry;
    const data = zoneQueryHandler?.(rootFd, path, offset - ZONE_QUERY_OFFSET) ?? null;
    return data === null ? -ENOSYS : { entry, data };
  }
  const fd = openBeneath(rootFd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fd;
  try {
    if (sys.fstat(fd, statBuf) !== 0) return -errno();
    const st = decodeStat(statBuf);
    if ((st.mode & S_IFMT) !== S_IFREG) return -21; // EISDIR (or another non-file type)
    const size = Number(st.size);
    const want = Math.max(0, Math.min(length, size - offset));
    const data = alloc(want);
    let done = 0;
    while (done < want) {
      const r = Number(sys.pread(fd, data.subarray(done), BigInt(want - done), BigInt(offset + done)));
      if (r < 0) return -errno();
      if (r === 0) break;
      done += r;
    }
    const { name } = splitParent(path);
    return {
      entry: {
        name,
        type: "file",
        mode: st.mode,
        uid: st.uid,
        gid: st.gid,
        size,
        mtimeSec: Number(st.mtime),
        mtimeNsec: st.mtimeNsec,
        rdev: st.rdev,
      },
      data: done === want ? data : data.subarray(0, done),
    };
  } finally {
    sys.close(fd);
  }
}
