// Resolves tree paths strictly inside a directory handle, with the *at() syscalls.
//
// Everything the primary and the secondary do to a replicated tree goes through an O_PATH handle on its
// root opened once. That is what lets the FUSE server mount over the very directory it serves (the handle
// still reaches the directory underneath), and RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS makes the kernel
// refuse any path that would leave the root — through "..", an absolute path, or a symlinked directory
// planted in the tree — even if a path that passed validateTreePath() meets a tree that changed meanwhile.
//
// Functions return a value >= 0 or -errno, so hot paths never allocate exceptions.

import {
  cbytes,
  cstr,
  errno,
  O_CLOEXEC,
  O_DIRECTORY,
  O_PATH,
  RESOLVE_BENEATH,
  RESOLVE_NO_MAGICLINKS,
  RESOLVE_NO_SYMLINKS,
  sys,
  SYS_openat2,
} from "./fuse/libc.ts";

const RESOLVE = BigInt(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
const howBuf = new Uint8Array(24);
const howView = new DataView(howBuf.buffer);
const encoder = new TextEncoder();

/** openat2(rootFd, path, flags, mode) confined to the root; returns an fd or -errno. */
export function openBeneath(rootFd: number, path: string | Uint8Array, flags: number, mode = 0): number {
  howView.setBigUint64(0, BigInt(flags), true);
  howView.setBigUint64(8, BigInt(mode), true);
  howView.setBigUint64(16, RESOLVE, true);
  const p = typeof path === "string" ? cstr(path) : cbytes(path);
  const fd = Number(sys.syscall4(BigInt(SYS_openat2), BigInt(rootFd), p, howBuf, 24n));
  return fd < 0 ? -errno() : fd;
}

/** The parent directory of a tree path as (dirfd, last name); `close` releases dirfd if it was opened. */
export type ParentHandle = { readonly dirfd: number; readonly name: Uint8Array; close(): void };

const noop = () => {};

/** Opens the parent of `path` (root for a single component; "." names the root itself); -errno on error. */
export function openParent(rootFd: number, path: string): ParentHandle | number {
  const slash = path.lastIndexOf("/");
  if (slash < 0) return { dirfd: rootFd, name: cstr(path), close: noop };
  const dirfd = openBeneath(rootFd, path.slice(0, slash), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) return dirfd;
  return { dirfd, name: cstr(path.slice(slash + 1)), close: () => sys.close(dirfd) };
}

/** Runs `fn(dirfd, cname)` on the parent of `path`; returns its result, or -errno if the parent is missing. */
export function atParent(
  rootFd: number,
  path: string,
  fn: (dirfd: number, cname: Uint8Array) => number,
): number {
  const parent = openParent(rootFd, path);
  if (typeof parent === "number") return parent;
  try {
    return fn(parent.dirfd, parent.name);
  } finally {
    parent.close();
  }
}

/** A path for the l*xattr calls that reaches `name` under `dirfd` without following a final symlink. */
export function procPathAt(dirfd: number, name: Uint8Array): Uint8Array {
  const prefix = encoder.encode(`/proc/self/fd/${dirfd}/`);
  const out = new Uint8Array(prefix.length + name.length);
  out.set(prefix);
  out.set(name, prefix.length); // `name` already ends with its NUL
  return out;
}

export type TreeRoot = { readonly fd: number; readonly dir: string; close(): void };

/** Opens the O_PATH handle on a tree root. Do this before mounting anything over `dir`. */
export function openTreeRoot(dir: string): TreeRoot {
  const fd = sys.openat(-100, cstr(dir), O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0) {
    const e = errno();
    throw new Error(`cannot open replicated directory ${dir}: errno ${e} (it must be an existing directory)`);
  }
  let open = true;
  return {
    fd,
    dir,
    close() {
      if (open) sys.close(fd);
      open = false;
    },
  };
}
