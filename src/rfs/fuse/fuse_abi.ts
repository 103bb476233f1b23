// The kernel FUSE protocol (linux/fuse.h, protocol 7.x): opcodes, flags, struct layouts, and pure
// encoders/decoders over byte buffers. No I/O here, so every layout is unit-testable.
//
// All integers are little-endian (the kernel's native order on the architectures we support).

export const FUSE_KERNEL_VERSION = 7;
/** The minor version we speak: recent enough for max_pages, RENAME2, LSEEK; older fields are unchanged. */
export const FUSE_OUR_MINOR = 38;

export const Op = {
  LOOKUP: 1,
  FORGET: 2,
  GETATTR: 3,
  SETATTR: 4,
  READLINK: 5,
  SYMLINK: 6,
  MKNOD: 8,
  MKDIR: 9,
  UNLINK: 10,
  RMDIR: 11,
  RENAME: 12,
  LINK: 13,
  OPEN: 14,
  READ: 15,
  WRITE: 16,
  STATFS: 17,
  RELEASE: 18,
  FSYNC: 20,
  SETXATTR: 21,
  GETXATTR: 22,
  LISTXATTR: 23,
  REMOVEXATTR: 24,
  FLUSH: 25,
  INIT: 26,
  OPENDIR: 27,
  READDIR: 28,
  RELEASEDIR: 29,
  FSYNCDIR: 30,
  GETLK: 31,
  SETLK: 32,
  SETLKW: 33,
  ACCESS: 34,
  CREATE: 35,
  INTERRUPT: 36,
  BMAP: 37,
  DESTROY: 38,
  IOCTL: 39,
  POLL: 40,
  BATCH_FORGET: 42,
  FALLOCATE: 43,
  READDIRPLUS: 44,
  RENAME2: 45,
  LSEEK: 46,
  COPY_FILE_RANGE: 47,
} as const;
export const opName: Record<number, string> = Object.fromEntries(Object.entries(Op).map(([k, v]) => [v, k]));

/** INIT flags (first 32 bits); FUSE_INIT_EXT announces a second word, flags2. */
export const InitFlag = {
  ASYNC_READ: 1 << 0,
  ATOMIC_O_TRUNC: 1 << 3,
  BIG_WRITES: 1 << 5,
  DONT_MASK: 1 << 6,
  DO_READDIRPLUS: 1 << 13,
  WRITEBACK_CACHE: 1 << 16,
  PARALLEL_DIROPS: 1 << 18,
  MAX_PAGES: 1 << 22,
  HANDLE_KILLPRIV_V2: 1 << 28,
  INIT_EXT: 1 << 30,
} as const;

/** INIT flags2 (bits 32..63 of the flags, sent when INIT_EXT is set). */
export const InitFlag2 = {
  PASSTHROUGH: 1 << 5,
} as const;

/** The protocol minor that carries FUSE_PASSTHROUGH (fuse_open_out.backing_id, init_out.max_stack_depth). */
export const FUSE_PASSTHROUGH_MINOR = 40;

export const Fattr = {
  MODE: 1,
  UID: 2,
  GID: 4,
  SIZE: 8,
  ATIME: 16,
  MTIME: 32,
  FH: 64,
  ATIME_NOW: 128,
  MTIME_NOW: 256,
  LOCKOWNER: 512,
  CTIME: 1024,
  KILL_SUIDGID: 2048,
} as const;

/** write_in.write_flags / setattr valid bits asking the file system to drop setuid/setgid (KILLPRIV_V2). */
export const WRITE_KILL_SUIDGID = 1 << 2;

export const IN_HEADER_SIZE = 40;
export const OUT_HEADER_SIZE = 16;
export const ATTR_SIZE = 88;
export const ENTRY_OUT_SIZE = 40 + ATTR_SIZE;
export const ATTR_OUT_SIZE = 16 + ATTR_SIZE;
export const OPEN_OUT_SIZE = 16;
export const INIT_OUT_SIZE = 64;
export const STATFS_OUT_SIZE = 80;
export const PAGE_SIZE = 4096;

export type InHeader = {
  readonly len: number;
  readonly opcode: number;
  readonly unique: bigint;
  readonly nodeid: bigint;
  readonly uid: number;
  readonly gid: number;
  readonly pid: number;
};

export class FuseProtocolError extends Error {
  override name = "FuseProtocolError";
}

export function decodeInHeader(buf: Uint8Array, n: number): InHeader {
  if (n < IN_HEADER_SIZE) {
    throw new FuseProtocolError(`FUSE request of ${n} bytes is shorter than its header`);
  }
  const dv = view(buf);
  const len = dv.getUint32(0, true);
  if (len !== n) {
    throw new FuseProtocolError(`FUSE request header says ${len} bytes but read() returned ${n}`);
  }
  return {
    len,
    opcode: dv.getUint32(4, true),
    unique: dv.getBigUint64(8, true),
    nodeid: dv.getBigUint64(16, true),
    uid: dv.getUint32(24, true),
    gid: dv.getUint32(28, true),
    pid: dv.getUint32(32, true),
  };
}

export function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Reads the NUL-terminated string starting at `off`; returns its bytes and the offset after the NUL. */
export function cstringAt(buf: Uint8Array, off: number, end: number): { bytes: Uint8Array; next: number } {
  let z = off;
  while (z < end && buf[z] !== 0) z++;
  if (z >= end) throw new FuseProtocolError(`FUSE request: unterminated name at offset ${off}`);
  return { bytes: buf.subarray(off, z), next: z + 1 };
}

// ---- INIT ----

export type InitIn = {
  readonly major: number;
  readonly minor: number;
  readonly maxReadahead: number;
  readonly flags: number;
  readonly flags2: number;
};

export function decodeInitIn(buf: Uint8Array): InitIn {
  const dv = view(buf);
  const a = IN_HEADER_SIZE;
  const flags = dv.getUint32(a + 12, true);
  const hasExt = (flags & InitFlag.INIT_EXT) !== 0 && buf.length >= a + 20;
  return {
    major: dv.getUint32(a, true),
    minor: dv.getUint32(a + 4, true),
    maxReadahead: dv.getUint32(a + 8, true),
    flags,
    flags2: hasExt ? dv.getUint32(a + 16, true) : 0,
  };
}

export type InitOut = {
  readonly minor: number;
  readonly maxReadahead: number;
  readonly flags: number;
  readonly flags2: number;
  /** Stacking depth the backing files may have (1 when passthrough is on, else 0). */
  readonly maxStackDepth: number;
  readonly maxBackground: number;
  readonly congestionThreshold: number;
  readonly maxWrite: number;
  readonly timeGran: number;
  readonly maxPages: number;
};

/** What we accept from the kernel's offer: only flags it offered, and only those this server implements. */
/** Optional kernel features the caller asks for; each is used only if the kernel offers it. */
export type InitFeatures = {
  /**
   * The kernel's writeback cache: write(2) returns once the page cache has the data and WRITEs reach us
   * later, in batches. The application's fsync is then the replication boundary (docs/replication-fuse.md).
   */
  readonly writebackCache?: boolean;
  /** FUSE_PASSTHROUGH: reads of files opened read-only go straight to the backing file (kernel 7.40+). */
  readonly passthrough?: boolean;
};

export function negotiateInit(
  kernel: InitIn,
  maxWrite: number,
  maxBackground: number,
  features: InitFeatures = {},
): InitOut {
  // HANDLE_KILLPRIV_V2: we clear setuid/setgid on write ourselves (the kernel flags those writes), which lets
  // the kernel skip the GETXATTR security.capability round trip it would otherwise send before EVERY write.
  let wanted = InitFlag.ASYNC_READ | InitFlag.BIG_WRITES | InitFlag.PARALLEL_DIROPS | InitFlag.MAX_PAGES |
    InitFlag.HANDLE_KILLPRIV_V2 | InitFlag.INIT_EXT;
  if (features.writebackCache) wanted |= InitFlag.WRITEBACK_CACHE;
  const flags = (wanted & kernel.flags) >>> 0;
  // The kernel refuses passthrough together with the writeback cache (both own the page cache of a file).
  const passthrough = features.passthrough === true && !(flags & InitFlag.WRITEBACK_CACHE) &&
    (flags & InitFlag.INIT_EXT) !== 0 && kernel.minor >= FUSE_PASSTHROUGH_MINOR &&
    (kernel.flags2 & InitFlag2.PASSTHROUGH) !== 0;
  return {
    minor: Math.min(kernel.minor, passthrough ? FUSE_PASSTHROUGH_MINOR : FUSE_OUR_MINOR),
    maxReadahead: kernel.maxReadahead,
    flags,
    flags2: passthrough ? InitFlag2.PASSTHROUGH : 0,
    maxStackDepth: passthrough ? 1 : 0,
    maxBackground,
    congestionThreshold: Math.max(1, Math.floor(maxBackground * 3 / 4)),
    maxWrite,
    timeGran: 1,
    maxPages: Math.ceil(maxWrite / PAGE_SIZE),
  };
}

export function encodeInitOut(out: Uint8Array, o: InitOut): number {
  const dv = view(out);
  const b = OUT_HEADER_SIZE;
  out.fill(0, b, b + INIT_OUT_SIZE);
  dv.setUint32(b, FUSE_KERNEL_VERSION, true);
  dv.setUint32(b + 4, o.minor, true);
  dv.setUint32(b + 8, o.maxReadahead, true);
  dv.setUint32(b + 12, o.flags, true);
  dv.setUint16(b + 16, o.maxBackground, true);
  dv.setUint16(b + 18, o.congestionThreshold, true);
  dv.setUint32(b + 20, o.maxWrite, true);
  dv.setUint32(b + 24, o.timeGran, true);
  dv.setUint16(b + 28, o.maxPages, true);
  dv.setUint32(b + 32, o.flags2, true);
  dv.setUint32(b + 36, o.maxStackDepth, true);
  return INIT_OUT_SIZE;
}

// ---- replies ----

/** Writes the reply header for a body of `bodyLen` bytes (ignored when `error` is set); returns the total. */
export function encodeOutHeader(out: Uint8Array, unique: bigint, error: number, bodyLen: number): number {
  const len = OUT_HEADER_SIZE + (error ? 0 : bodyLen);
  const dv = view(out);
  dv.setUint32(0, len, true);
  dv.setInt32(4, error ? -error : 0, true);
  dv.setBigUint64(8, unique, true);
  return len;
}

/** The subset of `struct stat` that FUSE carries, decoded from the kernel's x86_64/aarch64 layout. */
export type Stat = {
  ino: bigint;
  size: bigint;
  blocks: bigint;
  atime: bigint;
  atimeNsec: number;
  mtime: bigint;
  mtimeNsec: number;
  ctime: bigint;
  ctimeNsec: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  blksize: number;
};

export const STAT_SIZE = 144;

export function decodeStat(st: Uint8Array): Stat {
  const dv = view(st);
  if (Deno.build.arch === "aarch64") {
    // asm-generic layout: dev, ino, mode(u32), nlink(u32), uid, gid, rdev, pad, size, blksize(i32), pad, blocks...
    return {
      ino: dv.getBigUint64(8, true),
      mode: dv.getUint32(16, true),
      nlink: dv.getUint32(20, true),
      uid: dv.getUint32(24, true),
      gid: dv.getUint32(28, true),
      rdev: Number(dv.getBigUint64(32, true) & 0xffffffffn),
      size: dv.getBigUint64(48, true),
      blksize: dv.getInt32(56, true),
      blocks: dv.getBigUint64(64, true),
      atime: dv.getBigInt64(72, true),
      atimeNsec: Number(dv.getBigInt64(80, true)),
      mtime: dv.getBigInt64(88, true),
      mtimeNsec: Number(dv.getBigInt64(96, true)),
      ctime: dv.getBigInt64(104, true),
      ctimeNsec: Number(dv.getBigInt64(112, true)),
    };
  }
  return {
    ino: dv.getBigUint64(8, true),
    nlink: Number(dv.getBigUint64(16, true)),
    mode: dv.getUint32(24, true),
    uid: dv.getUint32(28, true),
    gid: dv.getUint32(32, true),
    rdev: Number(dv.getBigUint64(40, true) & 0xffffffffn),
    size: dv.getBigUint64(48, true),
    blksize: Number(dv.getBigInt64(56, true)),
    blocks: dv.getBigUint64(64, true),
    atime: dv.getBigInt64(72, true),
    atimeNsec: Number(dv.getBigInt64(80, true)),
    mtime: dv.getBigInt64(88, true),
    mtimeNsec: Number(dv.getBigInt64(96, true)),
    ctime: dv.getBigInt64(104, true),
    ctimeNsec: Number(dv.getBigInt64(112, true)),
  };
}

export function encodeAttr(dv: DataView, off: number, s: Stat): void {
  dv.setBigUint64(off, s.ino, true);
  dv.setBigUint64(off + 8, s.size, true);
  dv.setBigUint64(off + 16, s.blocks, true);
  dv.setBigInt64(off + 24, s.atime, true);
  dv.setBigInt64(off + 32, s.mtime, true);
  dv.setBigInt64(off + 40, s.ctime, true);
  dv.setUint32(off + 48, s.atimeNsec, true);
  dv.setUint32(off + 52, s.mtimeNsec, true);
  dv.setUint32(off + 56, s.ctimeNsec, true);
  dv.setUint32(off + 60, s.mode, true);
  dv.setUint32(off + 64, s.nlink, true);
  dv.setUint32(off + 68, s.uid, true);
  dv.setUint32(off + 72, s.gid, true);
  dv.setUint32(off + 76, s.rdev, true);
  dv.setUint32(off + 80, s.blksize, true);
  dv.setUint32(off + 84, 0, true);
}

export function encodeAttrOut(out: Uint8Array, s: Stat, ttlSec: number): number {
  const dv = view(out);
  const b = OUT_HEADER_SIZE;
  dv.setBigUint64(b, BigInt(ttlSec), true);
  dv.setUint32(b + 8, 0, true);
  dv.setUint32(b + 12, 0, true);
  encodeAttr(dv, b + 16, s);
  return ATTR_OUT_SIZE;
}

/** fuse_entry_out at `off` (a LOOKUP reply, or the first half of a CREATE reply). */
export function encodeEntryOut(
  out: Uint8Array,
  off: number,
  nodeid: bigint,
  s: Stat,
  ttlSec: number,
): number {
  const dv = view(out);
  dv.setBigUint64(off, nodeid, true);
  dv.setBigUint64(off + 8, 0n, true); // generation: node ids are never reused while the mount lives
  dv.setBigUint64(off + 16, BigInt(ttlSec), true);
  dv.setBigUint64(off + 24, BigInt(ttlSec), true);
  dv.setUint32(off + 32, 0, true);
  dv.setUint32(off + 36, 0, true);
  encodeAttr(dv, off + 40, s);
  return ENTRY_OUT_SIZE;
}

/** fuse_open_out; `backingId` (FOPEN_PASSTHROUGH, protocol 7.40+) sits where older versions had padding. */
export function encodeOpenOut(
  out: Uint8Array,
  off: number,
  fh: bigint,
  openFlags: number,
  backingId = 0,
): number {
  const dv = view(out);
  dv.setBigUint64(off, fh, true);
  dv.setUint32(off + 8, openFlags, true);
  dv.setInt32(off + 12, backingId, true);
  return OPEN_OUT_SIZE;
}

export type StatfsOut = {
  blocks: bigint;
  bfree: bigint;
  bavail: bigint;
  files: bigint;
  ffree: bigint;
  bsize: number;
  namelen: number;
  frsize: number;
};

export function encodeStatfsOut(out: Uint8Array, s: StatfsOut): number {
  const dv = view(out);
  const b = OUT_HEADER_SIZE;
  out.fill(0, b, b + STATFS_OUT_SIZE);
  dv.setBigUint64(b, s.blocks, true);
  dv.setBigUint64(b + 8, s.bfree, true);
  dv.setBigUint64(b + 16, s.bavail, true);
  dv.setBigUint64(b + 24, s.files, true);
  dv.setBigUint64(b + 32, s.ffree, true);
  dv.setUint32(b + 40, s.bsize, true);
  dv.setUint32(b + 44, s.namelen, true);
  dv.setUint32(b + 48, s.frsize, true);
  return STATFS_OUT_SIZE;
}

/** Size of one fuse_dirent holding a name of `nameLen` bytes (entries are 8-byte aligned). */
export function direntSize(nameLen: number): number {
  return (24 + nameLen + 7) & ~7;
}

/** Appends one fuse_dirent at `off`; returns the new offset, or -1 when it does not fit before `limit`. */
export function encodeDirent(
  out: Uint8Array,
  off: number,
  limit: number,
  e: { ino: bigint; nextOffset: bigint; type: number; name: Uint8Array },
): number {
  const size = direntSize(e.name.length);
  if (off + size > limit) return -1;
  const dv = view(out);
  dv.setBigUint64(off, e.ino, true);
  dv.setBigUint64(off + 8, e.nextOffset, true);
  dv.setUint32(off + 16, e.name.length, true);
  dv.setUint32(off + 20, e.type, true);
  out.set(e.name, off + 24);
  out.fill(0, off + 24 + e.name.length, off + size);
  return off + size;
}

// ---- request bodies (offsets relative to the end of the in-header) ----

export type SetattrIn = {
  valid: number;
  fh: bigint;
  size: bigint;
  atime: bigint;
  atimeNsec: number;
  mtime: bigint;
  mtimeNsec: number;
  mode: number;
  uid: number;
  gid: number;
};

export function decodeSetattrIn(buf: Uint8Array): SetattrIn {
  const dv = view(buf);
  const a = IN_HEADER_SIZE;
  return {
    valid: dv.getUint32(a, true),
    fh: dv.getBigUint64(a + 8, true),
    size: dv.getBigUint64(a + 16, true),
    atime: dv.getBigInt64(a + 32, true),
    mtime: dv.getBigInt64(a + 40, true),
    atimeNsec: dv.getUint32(a + 56, true),
    mtimeNsec: dv.getUint32(a + 60, true),
    mode: dv.getUint32(a + 68, true),
    uid: dv.getUint32(a + 76, true),
    gid: dv.getUint32(a + 80, true),
  };
}

/** Reads the little-endian u32/u64 fields of a request body at `rel` bytes after the in-header. */
export function u32At(buf: Uint8Array, rel: number): number {
  return view(buf).getUint32(IN_HEADER_SIZE + rel, true);
}
export function u64At(buf: Uint8Array, rel: number): bigint {
  return view(buf).getBigUint64(IN_HEADER_SIZE + rel, true);
}
