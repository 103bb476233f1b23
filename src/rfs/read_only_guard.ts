// <replicated mode="read_only">: on the secondary, the replicated directory is read-only for local users
// while the replication server keeps writing it (spec §7.1).
//
// How: the server opens its O_PATH handles on the directories first (openTreeRoot), then a read-only bind
// mount of each directory is put over the directory itself. Local users reach the directory by its path,
// through the read-only mount: any change fails with EROFS. The server never uses the path: every op is
// an *at() call relative to its handle, which refers to the directory on the mount it was opened on (the
// read-write one underneath) — the same mechanism that lets the FUSE server write beneath its own mount.
// Unmounting the guard (leaving SECOND) gives the path back, unchanged.
//
// A crash leaves the guard in place. It is recognised as a read-only mount exactly on the directory,
// of the same device as the directory's parent (a bind of the same file system), and detached before the
// directory is served again (clearStaleReadOnlyGuard): the primary's FUSE server must open the directory
// on the read-write mount.

import { cstr, errno, errnoName, MNT_DETACH, sys } from "./fuse/libc.ts";

const MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_REMOUNT = 32, MS_BIND = 4096;

function fail(what: string, dir: string): never {
  const e = errno();
  throw new Error(`read_only: ${what} on ${dir} failed with ${errnoName[e] ?? "errno " + e}`);
}

/** Makes `dir` read-only by its path. Call after the writer opened its handles on it. */
export function guardReadOnly(dir: string): void {
  const d = cstr(dir);
  if (sys.mount(d, d, null, BigInt(MS_BIND), null) !== 0) fail("bind mount", dir);
  const flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV;
  if (sys.mount(null, d, null, BigInt(flags), null) !== 0) {
    sys.umount2(d, MNT_DETACH);
    fail("read-only remount", dir);
  }
}

/** Removes the guard guardReadOnly put on `dir` (lazily: a reader with files open keeps its view). */
export function releaseReadOnly(dir: string): void {
  if (readOnlyGuardOn(dir) && sys.umount2(cstr(dir), MNT_DETACH) !== 0) fail("umount", dir);
}

/** Detaches a guard a crashed process left on `dir`. True if there was one. */
export function clearStaleReadOnlyGuard(dir: string): boolean {
  if (!readOnlyGuardOn(dir)) return false;
  if (sys.umount2(cstr(dir), MNT_DETACH) !== 0) fail("umount of a stale guard", dir);
  return true;
}

/** Decodes the octal escapes of /proc/self/mountinfo (space, tab, newline, backslash). */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * True when the topmost mount on `dir` is a read-only mount of the same device as the mount `dir` sits
 * on: the shape of our guard. /proc/self/mountinfo lists mounts in mount order, so the last entry for a
 * mount point is the one on top.
 */
export function readOnlyGuardOn(dir: string): boolean {
  const lines = Deno.readTextFileSync("/proc/self/mountinfo").split("\n").filter((l) => l !== "");
  const entries = lines.map((l) => {
    const f = l.split(" ");
    return { id: f[0], parent: f[1], dev: f[2], mountPoint: unescapeMountPath(f[4]), opts: f[5].split(",") };
  });
  const onDir = entries.filter((e) => e.mountPoint === dir);
  const top = onDir.at(-1);
  if (top === undefined || !top.opts.includes("ro")) return false;
  const below = entries.find((e) => e.id === top.parent);
  return below !== undefined && below.dev === top.dev;
}
