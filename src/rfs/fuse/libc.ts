// libc bindings through Deno FFI (x86_64/aarch64 Linux, glibc >= 2.33 so that fstatat/fstat are real symbols).
//
// Two traps shape this file (reference/deno-fuse-network-spike.md §1):
//  - errno is thread-local. Only calls made synchronously on the JS thread leave it readable through
//    __errno_location(); a `nonblocking: true` call runs on a worker thread, so its errno is lost. Every call
//    whose errno we report is therefore bound synchronously, and the few slow ones (poll, fsync) are bound
//    nonblocking and only ever report EIO.
//  - A synchronous call that touches our own FUSE mount would deadlock the server (the JS thread would wait
//    for itself). Callers only ever pass paths below the backing directory's O_PATH handle.

export const libc = Deno.dlopen("libc.so.6", {
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  openat: { parameters: ["i32", "buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  writev: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  pread: { name: "pread64", parameters: ["i32", "buffer", "usize", "i64"], result: "isize" },
  pwrite: { name: "pwrite64", parameters: ["i32", "buffer", "usize", "i64"], result: "isize" },
  // Large writes off the JS thread (see pwriteAllAsync in apply_tree_op.ts for how errno is recovered).
  pwriteAsync: {
    name: "pwrite64",
    parameters: ["i32", "buffer", "usize", "i64"],
    result: "isize",
    nonblocking: true,
  },
  pollAsync: { name: "poll", parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  fsyncAsync: { name: "fsync", parameters: ["i32"], result: "i32", nonblocking: true },
  fdatasyncAsync: { name: "fdatasync", parameters: ["i32"], result: "i32", nonblocking: true },
  // Starts writeback of a range without waiting for it (see WritebackStarter); off the JS thread because it
  // can still block while the device queue is full.
  syncFileRangeAsync: {
    name: "sync_file_range",
    parameters: ["i32", "i64", "i64", "u32"],
    result: "i32",
    nonblocking: true,
  },
  fcntl: { parameters: ["i32", "i32", "i64"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  mount: { parameters: ["buffer", "buffer", "buffer", "u64", "buffer"], result: "i32" },
  umount2: { parameters: ["buffer", "i32"], result: "i32" },
  fstatat: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  fstat: { parameters: ["i32", "buffer"], result: "i32" },
  mkdirat: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  mknodat: { parameters: ["i32", "buffer", "u32", "u64"], result: "i32" },
  symlinkat: { parameters: ["buffer", "i32", "buffer"], result: "i32" },
  readlinkat: { parameters: ["i32", "buffer", "buffer", "usize"], result: "isize" },
  linkat: { parameters: ["i32", "buffer", "i32", "buffer", "i32"], result: "i32" },
  unlinkat: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  renameat2: { parameters: ["i32", "buffer", "i32", "buffer", "u32"], result: "i32" },
  fchmodat: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  fchmod: { parameters: ["i32", "u32"], result: "i32" },
  fchownat: { parameters: ["i32", "buffer", "u32", "u32", "i32"], result: "i32" },
  ftruncate: { name: "ftruncate64", parameters: ["i32", "i64"], result: "i32" },
  utimensat: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  fstatvfs: { parameters: ["i32", "buffer"], result: "i32" },
  fallocate: { name: "fallocate64", parameters: ["i32", "i32", "i64", "i64"], result: "i32" },
  lseek: { name: "lseek64", parameters: ["i32", "i64", "i32"], result: "i64" },
  fdopendir: { parameters: ["i32"], result: "pointer" },
  readdir: { name: "readdir64", parameters: ["pointer"], result: "pointer" },
  closedir: { parameters: ["pointer"], result: "i32" },
  lsetxattr: { parameters: ["buffer", "buffer", "buffer", "usize", "i32"], result: "i32" },
  lgetxattr: { parameters: ["buffer", "buffer", "buffer", "usize"], result: "isize" },
  llistxattr: { parameters: ["buffer", "buffer", "usize"], result: "isize" },
  lremovexattr: { parameters: ["buffer", "buffer"], result: "i32" },
  // openat2(2) has no glibc wrapper before 2.39; syscall(2) is variadic but takes integers only, which the
  // x86_64 and aarch64 ABIs pass in the same registers as a fixed-argument call.
  syscall4: { name: "syscall", parameters: ["i64", "i64", "buffer", "buffer", "u64"], result: "i64" },
  __errno_location: { parameters: [], result: "pointer" },
});

export const sys = libc.symbols;

const errnoView = new Deno.UnsafePointerView(sys.__errno_location()!);
/** errno of the JS thread; valid only right after a synchronous call that failed. */
export function errno(): number {
  return errnoView.getInt32(0);
}

const encoder = new TextEncoder();
/** NUL-terminated copy of a string for a `buffer` parameter. */
export function cstr(s: string): Uint8Array {
  return encoder.encode(s + "\0");
}
/** NUL-terminated copy of raw bytes (names that are not valid UTF-8 survive unchanged). */
export function cbytes(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

export const O_RDONLY = 0,
  O_WRONLY = 1,
  O_RDWR = 2,
  O_ACCMODE = 3,
  O_CREAT = 0o100,
  O_EXCL = 0o200,
  O_NOCTTY = 0o400,
  O_TRUNC = 0o1000,
  O_APPEND = 0o2000,
  O_NONBLOCK = 0o4000,
  O_DIRECTORY = 0o200000,
  O_NOFOLLOW = 0o400000,
  O_CLOEXEC = 0o2000000,
  O_PATH = 0o10000000;
export const AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200, AT_EMPTY_PATH = 0x1000;
export const F_GETFL = 3, F_SETFL = 4;
export const S_IFMT = 0o170000, S_IFDIR = 0o040000, S_IFREG = 0o100000, S_IFLNK = 0o120000, S_ISGID = 0o2000;
export const MS_NOSUID = 2, MS_NODEV = 4, MNT_DETACH = 2;
export const POLLIN = 1, POLLERR = 8, POLLHUP = 0x10;
export const UTIME_NOW = (1 << 30) - 1, UTIME_OMIT = (1 << 30) - 2;
export const SYS_openat2 = 437; // same number on x86_64 and aarch64 (generic syscall table)
export const RESOLVE_NO_MAGICLINKS = 0x02, RESOLVE_NO_SYMLINKS = 0x04, RESOLVE_BENEATH = 0x08;

export const errnoName: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  5: "EIO",
  9: "EBADF",
  11: "EAGAIN",
  13: "EACCES",
  16: "EBUSY",
  17: "EEXIST",
  18: "EXDEV",
  19: "ENODEV",
  20: "ENOTDIR",
  21: "EISDIR",
  22: "EINVAL",
  27: "EFBIG",
  28: "ENOSPC",
  30: "EROFS",
  31: "EMLINK",
  34: "ERANGE",
  36: "ENAMETOOLONG",
  38: "ENOSYS",
  39: "ENOTEMPTY",
  40: "ELOOP",
  61: "ENODATA",
  95: "EOPNOTSUPP",
};
export const EPERM = 1,
  ENOENT = 2,
  EIO = 5,
  EBADF = 9,
  EAGAIN = 11,
  EACCES = 13,
  EEXIST = 17,
  EXDEV = 18,
  ENODEV = 19,
  ENOTDIR = 20,
  EINVAL = 22,
  ERANGE = 34,
  ENOSYS = 38,
  ENOTTY = 25,
  ENODATA = 61,
  EOPNOTSUPP = 95;
