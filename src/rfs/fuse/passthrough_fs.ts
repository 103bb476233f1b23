// A FUSE file system that serves a backing directory and hands every change to a ReplicationSink.
//
// The backing directory is usually the mount point itself: the caller opens an O_PATH handle on it
// (openTreeRoot) BEFORE mounting over it, and every operation here is an *at() call relative to that
// handle, so the application keeps using its usual path while the files stay where they were.
//
// Write path (spec §7.1): a change is applied locally first, then given to the sink, and the kernel gets
// its reply only when the sink's promise settles — the application's write returns once both "disks"
// have it. Local application and the sink call happen in one synchronous stretch of JS, so the sink
// receives ops in exactly the order they changed the local tree. The kernel already serializes
// changes to one inode (it holds the inode lock until we reply), so per inode that order is the order the
// kernel sent them. A failing sink turns into EIO for the application; the local change stays (deciding to
// drop the secondary, SafeKit's ALONE, is the sink's business, and it does so by resolving).

import {
  cstringAt,
  decodeSetattrIn,
  decodeStat,
  encodeAttrOut,
  encodeDirent,
  encodeEntryOut,
  encodeOpenOut,
  encodeStatfsOut,
  ENTRY_OUT_SIZE,
  Fattr,
  IN_HEADER_SIZE,
  InitFlag,
  type InitOut,
  Op,
  OUT_HEADER_SIZE,
  type Stat,
  STAT_SIZE,
  u32At,
  u64At,
  view,
  WRITE_KILL_SUIDGID,
} from "./fuse_abi.ts";
import { type FuseHandler, type FuseRequest, type HandlerResult, NO_REPLY } from "./fuse_session.ts";
import {
  AT_EMPTY_PATH,
  AT_SYMLINK_NOFOLLOW,
  cstr,
  EINVAL,
  EIO,
  ENOENT,
  ENOSYS,
  ENOTTY,
  errno,
  O_ACCMODE,
  O_APPEND,
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_NOCTTY,
  O_NOFOLLOW,
  O_RDONLY,
  O_RDWR,
  O_TRUNC,
  O_WRONLY,
  S_IFDIR,
  S_IFMT,
  S_IFREG,
  S_ISGID,
  sys,
  UTIME_OMIT,
} from "./libc.ts";
import { NodeTable } from "./node_table.ts";
import {
  FOPEN_DIRECT_IO,
  FOPEN_KEEP_CACHE,
  FOPEN_PASSTHROUGH,
  type OpenMode,
  ReadPassthrough,
} from "./read_passthrough.ts";
import { applyTreeOpSync, pwriteAll, pwriteAllAsync, TreeApplyError } from "../apply_tree_op.ts";
import { SequentialRuns, startWriteback } from "../writeback_start.ts";
import type { ReplicationSink, TreeOp, TreeTime } from "../tree_op.ts";
import { TreePathError } from "../tree_op.ts";

const O_DIRECT = 0o40000;
const EILSEQ = 84;
/** Writes at least this large are copied into the backing file off the JS thread while they replicate. */
const ASYNC_LOCAL_WRITE_BYTES = 64 * 1024;
/** Requests that never change the tree: they are served while a large write is being copied (see handle). */
const UNGATED_OPS = new Set<number>([
  Op.LOOKUP,
  Op.FORGET,
  Op.BATCH_FORGET,
  Op.GETATTR,
  Op.READLINK,
  Op.READ,
  Op.STATFS,
  Op.FLUSH,
  Op.GETXATTR,
  Op.LISTXATTR,
  Op.OPENDIR,
  Op.READDIR,
  Op.READDIRPLUS,
  Op.RELEASEDIR,
  Op.ACCESS,
  Op.LSEEK,
]);
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

export type PassthroughOptions = {
  /** O_PATH handle on the backing directory (see openTreeRoot). */
  readonly rootFd: number;
  /** Receives every change after it was applied locally; omitted = a plain passthrough. */
  readonly sink?: ReplicationSink;
  /** How long the kernel may cache names and attributes, in seconds. */
  readonly ttlSec?: number;
};

export type PassthroughStats = {
  sinkOps: number;
  sinkFailures: number;
  unreplicatedWrites: number;
  /** Large writes copied into the backing file on a worker thread while they were being replicated. */
  overlappedWrites: number;
  /** Requests that waited for such a copy before changing the tree (see handle). */
  gatedRequests: number;
  /** Large writes sent while such a copy ran, their own copy queued behind it (queuesBehindLocalWrite). */
  queuedLocalWrites: number;
  /** Files replicated whole because a writable handle's mapping may have changed them (reconcile). */
  reconciledFiles: number;
};

type DirListing = { entries: { ino: bigint; type: number; name: Uint8Array }[] };

/** Always-reached fallback for a failing syscall: -errno, and EIO if errno says nothing. */
function sysError(): number {
  return -(errno() || EIO);
}

export class PassthroughFs implements FuseHandler {
  readonly nodes = new NodeTable();
  readonly stats: PassthroughStats = {
    sinkOps: 0,
    sinkFailures: 0,
    unreplicatedWrites: 0,
    overlappedWrites: 0,
    gatedRequests: 0,
    queuedLocalWrites: 0,
    reconciledFiles: 0,
  };
  private readonly rootFd: number;
  private readonly sink: ReplicationSink | null;
  private readonly ttl: number;
  private readonly statBuf = new Uint8Array(STAT_SIZE);
  private readonly dirs = new Map<number, DirListing>();
  private nextDirHandle = 1;
  /** Decides per open whether reads bypass us (FUSE passthrough); disabled until INIT agrees to it. */
  private readPassthrough = new ReadPassthrough(null);
  /** How each open file handle is served, for its RELEASE. */
  private readonly openModes = new Map<number, { node: number; mode: OpenMode }>();
  private writebackCache = false;
  /** Change stamps of nodes with unmediated writable handles, as of their last reconcile. */
  private readonly reconciled = new Map<number, string>();
  /** Settles when the large write being copied on a worker thread is in its backing file (see write). */
  private localWrite: Promise<void> | null = null;
  /** Sequential runs per open handle, whose writeback starts as they grow (writeback_start.ts). */
  private readonly runs = new SequentialRuns();

  constructor(options: PassthroughOptions) {
    this.rootFd = options.rootFd;
    this.sink = options.sink ?? null;
    this.ttl = options.ttlSec ?? 1;
  }

  negotiated(init: InitOut, devFd: number): void {
    this.readPassthrough = new ReadPassthrough(init.flags2 !== 0 ? devFd : null);
    this.writebackCache = (init.flags & InitFlag.WRITEBACK_CACHE) !== 0;
  }

  /** Opens served with reads passed through, and failed backing registrations (fell back to the cache). */
  get passthroughStats(): { passthroughOpens: number; registrations: number; failures: number } {
    return this.readPassthrough.stats;
  }

  handle(req: FuseRequest): HandlerResult | Promise<HandlerResult> {
    const { header } = req;
    // While a large write is copied into its backing file on a worker thread, every request that could
    // change the tree waits for it, in arrival order: local changes keep the order of the stream.
    if (this.localWrite !== null && !UNGATED_OPS.has(header.opcode) && !this.queuesBehindLocalWrite(req)) {
      this.stats.gatedRequests++;
      return this.localWrite.then(() => this.handle(req));
    }
    const node = Number(header.nodeid);
    switch (header.opcode) {
      case Op.LOOKUP:
        return this.lookup(req, node);
      case Op.FORGET:
        this.nodes.forget(node, Number(u64At(req.buf, 0)));
        return NO_REPLY;
      case Op.BATCH_FORGET: {
        const count = u32At(req.buf, 0);
        for (let i = 0; i < count; i++) {
          this.nodes.forget(Number(u64At(req.buf, 8 + i * 16)), Number(u64At(req.buf, 16 + i * 16)));
        }
        return NO_REPLY;
      }
      case Op.GETATTR:
        return this.getattr(req, node);
      case Op.SETATTR:
        return this.setattr(req, node);
      case Op.READLINK:
        return this.readlink(req, node);
      case Op.SYMLINK:
      case Op.MKNOD:
      case Op.MKDIR:
        return this.makeEntry(req, node);
      case Op.UNLINK:
      case Op.RMDIR:
        return this.remove(req, node);
      case Op.RENAME:
      case Op.RENAME2:
        return this.rename(req, node);
      case Op.LINK:
        return this.link(req, node);
      case Op.OPEN:
        return this.open(req, node);
      case Op.CREATE:
        return this.create(req, node);
      case Op.READ:
        return this.read(req);
      case Op.WRITE:
        return this.write(req, node);
      case Op.STATFS:
        return this.statfs(req);
      case Op.RELEASE:
        return this.release(req);
      case Op.FLUSH:
        // Data reaches the backing file at every WRITE, so there is nothing to flush. ENOSYS makes the
        // kernel stop sending FLUSH at every close(), which saves a round trip per close.
        return -ENOSYS;
      case Op.FSYNC:
      case Op.FSYNCDIR:
        return this.fsync(req, node);
      case Op.SETXATTR:
        return this.setxattr(req, node);
      case Op.GETXATTR:
      case Op.LISTXATTR:
        return this.getxattr(req, node);
      case Op.REMOVEXATTR:
        return this.removexattr(req, node);
      case Op.OPENDIR:
        return this.opendir(req, node);
      case Op.READDIR:
        return this.readdir(req);
      case Op.RELEASEDIR:
        this.dirs.delete(Number(u64At(req.buf, 0)));
        return 0;
      case Op.ACCESS: // default_permissions: the kernel checks modes itself and does not rely on ACCESS
        return 0;
      case Op.FALLOCATE:
        return this.fallocate(req, node);
      case Op.LSEEK:
        return this.lseek(req);
      case Op.IOCTL:
        return -ENOTTY;
      case Op.DESTROY:
        return 0;
      default:
        return -ENOSYS;
    }
  }

  // ---- helpers ----

  private name(req: FuseRequest, rel: number): { name: string; next: number } | number {
    const { bytes, next } = cstringAt(req.buf, IN_HEADER_SIZE + rel, req.buf.length);
    try {
      return { name: strictUtf8.decode(bytes), next: next - IN_HEADER_SIZE };
    } catch {
      return -EILSEQ; // a name that is not UTF-8 could not be replicated faithfully
    }
  }

  private stat(path: string): Stat | number {
    const r = sys.fstatat(this.rootFd, cstr(path), this.statBuf, AT_SYMLINK_NOFOLLOW);
    return r === 0 ? decodeStat(this.statBuf) : sysError();
  }

  /**
   * Each name of a hard-linked file is its own FUSE node, and the kernel does not know they share an
   * inode: a change through one name (unlink, chmod, write) would leave the other's cached attributes
   * stale. Their attributes are therefore never cached.
   */
  private attrTtl(st: Stat): number {
    return st.nlink > 1 && (st.mode & S_IFMT) !== S_IFDIR ? 0 : this.ttl;
  }

  /** An open handle on `node`, for a node whose name is gone (an unlinked file still open). */
  private openHandleOf(node: number): number | null {
    for (const [fh, o] of this.openModes) if (o.node === node) return fh;
    return null;
  }

  private fstat(fd: number): Stat | number {
    return sys.fstat(fd, this.statBuf) === 0 ? decodeStat(this.statBuf) : sysError();
  }

  /** Applies `op` locally and hands it to the sink in the same synchronous stretch (see the header). */
  private applyAndReplicate(op: TreeOp): Promise<void> | number {
    try {
      applyTreeOpSync(this.rootFd, op);
    } catch (e) {
      if (e instanceof TreeApplyError) return -e.errno;
      if (e instanceof TreePathError) return -EINVAL;
      throw e;
    }
    return this.replicate(op);
  }

  /** Hands an already-applied op to the sink. Must be called right after the local change, synchronously. */
  private replicate(op: TreeOp): Promise<void> {
    if (!this.sink) return Promise.resolve();
    this.stats.sinkOps++;
    return this.sink.apply(op);
  }

  private async settle(p: Promise<void> | number, result: () => HandlerResult): Promise<HandlerResult> {
    if (typeof p === "number") return p;
    try {
      await p;
    } catch {
      this.stats.sinkFailures++;
      return -EIO;
    }
    return result();
  }

  private entryReply(
    req: FuseRequest,
    parent: number,
    name: string,
    path: string,
    off = OUT_HEADER_SIZE,
  ): number {
    const st = this.stat(path);
    if (typeof st === "number") return st;
    const id = this.nodes.remember(parent, name);
    return encodeEntryOut(req.out, off, BigInt(id), st, this.attrTtl(st));
  }

  /** Owner of a new entry: the caller, with the group of a setgid parent directory (as the kernel does). */
  private newOwner(
    req: FuseRequest,
    parentPath: string,
  ): { uid: number; gid: number; setgidDir: boolean } | number {
    const parent = this.stat(parentPath);
    if (typeof parent === "number") return parent;
    const setgidDir = (parent.mode & S_ISGID) !== 0;
    return { uid: req.header.uid, gid: setgidDir ? parent.gid : req.header.gid, setgidDir };
  }

  // ---- operations ----

  private lookup(req: FuseRequest, parent: number): HandlerResult {
    const n = this.name(req, 0);
    if (typeof n === "number") return n;
    const path = this.nodes.childPath(parent, n.name);
    if (path === null) return -ENOENT;
    return this.entryReply(req, parent, n.name, path);
  }

  private getattr(req: FuseRequest, node: number): HandlerResult {
    const GETATTR_FH = 1;
    const path = this.nodes.pathOf(node);
    let st: Stat | number;
    const orphanHandle = path === null ? this.openHandleOf(node) : null;
    if (path !== null) st = this.stat(path);
    else if (u32At(req.buf, 0) & GETATTR_FH) st = this.fstat(Number(u64At(req.buf, 8)));
    // fstat(2) of an unlinked open file: the kernel sends no handle (it passes none to getattr).
    else if (orphanHandle !== null) st = this.fstat(orphanHandle);
    else return -ENOENT;
    return typeof st === "number" ? st : encodeAttrOut(req.out, st, this.attrTtl(st));
  }

  private setattr(req: FuseRequest, node: number): HandlerResult | Promise<HandlerResult> {
    const s = decodeSetattrIn(req.buf);
    const path = this.nodes.pathOf(node);
    const now = (): TreeTime => {
      const ns = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
      return { sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n) };
    };
    // "now" is resolved here so that the secondary gets the very same times as the primary.
    const time = (has: number, isNow: number, sec: bigint, nsec: number): TreeTime | undefined =>
      !(s.valid & has) ? undefined : s.valid & isNow ? now() : { sec: Number(sec), nsec };
    let mode = s.valid & Fattr.MODE ? s.mode & 0o7777 : undefined;
    if (s.valid & Fattr.KILL_SUIDGID && mode === undefined) {
      // A truncate by an unprivileged caller drops setuid/setgid, like a write (HANDLE_KILLPRIV_V2).
      const st = path !== null ? this.stat(path) : this.fstat(Number(s.fh));
      if (typeof st === "number") return st;
      if (withoutSuidSgid(st.mode) !== (st.mode & 0o7777)) mode = withoutSuidSgid(st.mode);
    }
    const op: Extract<TreeOp, { kind: "setattr" }> = {
      kind: "setattr",
      path: path ?? ".",
      mode,
      uid: s.valid & Fattr.UID ? s.uid : undefined,
      gid: s.valid & Fattr.GID ? s.gid : undefined,
      size: s.valid & Fattr.SIZE ? Number(s.size) : undefined,
      atime: time(Fattr.ATIME, Fattr.ATIME_NOW, s.atime, s.atimeNsec),
      mtime: time(Fattr.MTIME, Fattr.MTIME_NOW, s.mtime, s.mtimeNsec),
    };
    if (path === null) {
      // An open file whose name is gone: change it through its handle; nothing visible to replicate.
      if (!(s.valid & Fattr.FH)) return -ENOENT;
      const fh = Number(s.fh);
      const r = setattrByFd(fh, op);
      if (r < 0) return r;
      const st = this.fstat(fh);
      return typeof st === "number" ? st : encodeAttrOut(req.out, st, this.attrTtl(st));
    }
    const p = this.applyAndReplicate(op);
    return this.settle(p, () => {
      const st = this.stat(path);
      return typeof st === "number" ? st : encodeAttrOut(req.out, st, this.attrTtl(st));
    });
  }

  private readlink(req: FuseRequest, node: number): HandlerResult {
    const path = this.nodes.pathOf(node);
    if (path === null) return -ENOENT;
    const room = req.out.subarray(OUT_HEADER_SIZE, OUT_HEADER_SIZE + 4096);
    const n = Number(sys.readlinkat(this.rootFd, cstr(path), room, BigInt(room.length)));
    return n < 0 ? sysError() : n;
  }

  private makeEntry(req: FuseRequest, parent: number): HandlerResult | Promise<HandlerResult> {
    const opcode = req.header.opcode;
    const parentPath = this.nodes.pathOf(parent);
    if (parentPath === null) return -ENOENT;
    const nameAt = opcode === Op.SYMLINK ? 0 : opcode === Op.MKNOD ? 16 : 8;
    const n = this.name(req, nameAt);
    if (typeof n === "number") return n;
    const path = parentPath === "." ? n.name : `${parentPath}/${n.name}`;
    const owner = this.newOwner(req, parentPath);
    if (typeof owner === "number") return owner;
    const { uid, gid } = owner;
    let op: TreeOp;
    if (opcode === Op.SYMLINK) {
      const target = this.name(req, n.next);
      if (typeof target === "number") return target;
      op = { kind: "symlink", path, target: target.name, uid, gid };
    } else if (opcode === Op.MKDIR) {
      // The kernel applied the caller's umask already (we do not ask for FUSE_DONT_MASK).
      const mode = (u32At(req.buf, 0) & 0o7777) | (owner.setgidDir ? S_ISGID : 0);
      op = { kind: "mkdir", path, mode, uid, gid };
    } else {
      op = { kind: "mknod", path, mode: u32At(req.buf, 0), rdev: u32At(req.buf, 4), uid, gid };
    }
    return this.settle(this.applyAndReplicate(op), () => this.entryReply(req, parent, n.name, path));
  }

  private remove(req: FuseRequest, parent: number): HandlerResult | Promise<HandlerResult> {
    const n = this.name(req, 0);
    if (typeof n === "number") return n;
    const path = this.nodes.childPath(parent, n.name);
    if (path === null) return -ENOENT;
    const kind = req.header.opcode === Op.RMDIR ? "rmdir" : "unlink";
    const p = this.applyAndReplicate({ kind, path });
    if (typeof p !== "number") this.nodes.detach(parent, n.name);
    return this.settle(p, () => 0);
  }

  private rename(req: FuseRequest, parent: number): HandlerResult | Promise<HandlerResult> {
    const newParent = Number(u64At(req.buf, 0));
    const rename2 = req.header.opcode === Op.RENAME2;
    const flags = rename2 ? u32At(req.buf, 8) : 0;
    const from = this.name(req, rename2 ? 16 : 8);
    if (typeof from === "number") return from;
    const to = this.name(req, from.next);
    if (typeof to === "number") return to;
    const fromPath = this.nodes.childPath(parent, from.name),
      toPath = this.nodes.childPath(newParent, to.name);
    if (fromPath === null || toPath === null) return -ENOENT;
    const p = this.applyAndReplicate({ kind: "rename", from: fromPath, to: toPath, flags });
    if (typeof p !== "number") this.nodes.rename(parent, from.name, newParent, to.name, (flags & 2) !== 0);
    return this.settle(p, () => 0);
  }

  private link(req: FuseRequest, newParent: number): HandlerResult | Promise<HandlerResult> {
    const oldPath = this.nodes.pathOf(Number(u64At(req.buf, 0)));
    const n = this.name(req, 8);
    if (typeof n === "number") return n;
    const newPath = this.nodes.childPath(newParent, n.name);
    if (oldPath === null || newPath === null) return -ENOENT;
    const p = this.applyAndReplicate({ kind: "link", path: oldPath, newPath });
    return this.settle(p, () => this.entryReply(req, newParent, n.name, newPath));
  }

  /** Flags for the backing fd: never O_APPEND, so a write lands at the offset the kernel chose — the
   * same offset the secondary is given — and never O_DIRECT, whose alignment rules our buffers ignore.
   * With the writeback cache the kernel reads pages around a partial write, even of a write-only file. */
  private backingFlags(flags: number): number {
    let f = (flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_APPEND | O_DIRECT)) | O_NOFOLLOW | O_CLOEXEC;
    if (this.writebackCache && (f & O_ACCMODE) === O_WRONLY) f = (f & ~O_ACCMODE) | O_RDWR;
    return f;
  }

  /** Open reply for `fd` served as `mode` (see read_passthrough.ts); remembers the mode for RELEASE. */
  private openReply(req: FuseRequest, off: number, node: number, fd: number, mode: OpenMode): number {
    this.openModes.set(fd, { node, mode });
    if (mode.kind === "passthrough") {
      return encodeOpenOut(req.out, off, BigInt(fd), FOPEN_PASSTHROUGH, mode.backingId);
    }
    if (mode.kind === "direct") {
      if (!this.reconciled.has(node)) this.reconciled.set(node, this.changeStamp(fd));
      return encodeOpenOut(req.out, off, BigInt(fd), FOPEN_PASSTHROUGH | FOPEN_DIRECT_IO, mode.backingId);
    }
    return encodeOpenOut(req.out, off, BigInt(fd), FOPEN_KEEP_CACHE);
  }

  private open(req: FuseRequest, node: number): HandlerResult {
    const path = this.nodes.pathOf(node);
    if (path === null) return -ENOENT;
    const flags = u32At(req.buf, 0);
    const fd = sys.openat(this.rootFd, cstr(path), this.backingFlags(flags), 0);
    if (fd < 0) return sysError();
    const mode = this.readPassthrough.open(node, (flags & O_ACCMODE) !== O_RDONLY, fd);
    return this.openReply(req, OUT_HEADER_SIZE, node, fd, mode);
  }

  private async release(req: FuseRequest): Promise<HandlerResult> {
    const fh = Number(u64At(req.buf, 0));
    const o = this.openModes.get(fh);
    if (o !== undefined) {
      // The last reference of a handle whose mappings went to the backing file: what they wrote is in
      // the backing file now (the mapping is gone), and must reach the secondary.
      if (o.mode.kind === "direct") await this.reconcile(o.node, fh).catch(() => {});
      this.openModes.delete(fh);
      this.readPassthrough.release(o.node, o.mode);
      if (!this.readPassthrough.hasUnmediatedWriters(o.node)) this.reconciled.delete(o.node);
    }
    this.runs.forget(fh);
    sys.close(fh);
    return 0;
  }

  /** What changes when anything writes the file, our own writes included (multigrain ctime, size). */
  private changeStamp(fd: number): string {
    const st = this.fstat(fd);
    return typeof st === "number" ? "" : `${st.ctime}.${st.ctimeNsec}:${st.size}`;
  }

  /**
   * For a node with an unmediated writable handle (read_passthrough.ts): if the backing file changed since
   * the last check, its whole content and size are replicated, so writes made through a shared mapping of
   * the backing file reach the secondary. Our own writes change the stamp too, so this re-sends files that
   * only we wrote: the price of never missing one, paid only while such a handle is open.
   */
  private reconcile(node: number, fd: number): Promise<void> {
    const path = this.nodes.pathOf(node);
    const before = this.reconciled.get(node);
    if (path === null || before === undefined) return Promise.resolve();
    const stamp = this.changeStamp(fd); // taken first: a change made while we read moves it again
    if (stamp === before) return Promise.resolve();
    this.reconciled.set(node, stamp);
    const st = this.fstat(fd);
    if (typeof st === "number") return Promise.reject(new Error(`fstat failed: ${-st}`));
    const size = Number(st.size);
    const sent: Promise<void>[] = [];
    const piece = 1 << 20;
    for (let at = 0; at < size; at += piece) {
      const data = new Uint8Array(Math.min(piece, size - at));
      const n = Number(sys.pread(fd, data, BigInt(data.length), BigInt(at)));
      if (n <= 0) break;
      sent.push(this.replicate({ kind: "write", path, offset: at, data: data.subarray(0, n) }));
    }
    sent.push(this.replicate({ kind: "setattr", path, size }));
    this.stats.reconciledFiles++;
    return Promise.all(sent).then(() => {});
  }

  private create(req: FuseRequest, parent: number): HandlerResult | Promise<HandlerResult> {
    const flags = u32At(req.buf, 0), mode = u32At(req.buf, 4);
    const parentPath = this.nodes.pathOf(parent);
    if (parentPath === null) return -ENOENT;
    const n = this.name(req, 16);
    if (typeof n === "number") return n;
    const path = parentPath === "." ? n.name : `${parentPath}/${n.name}`;
    const owner = this.newOwner(req, parentPath);
    if (typeof owner === "number") return owner;
    const op: TreeOp = {
      kind: "create",
      path,
      mode: (mode & 0o7777) | S_IFREG,
      uid: owner.uid,
      gid: owner.gid,
      exclusive: (flags & O_EXCL) !== 0,
      truncate: (flags & O_TRUNC) !== 0,
    };
    const p = this.applyAndReplicate(op);
    if (typeof p === "number") return p;
    // The handle is opened now, in the same synchronous stretch, so nothing can rename the new file first.
    const fd = sys.openat(this.rootFd, cstr(path), this.backingFlags(flags), 0);
    const openErr = fd < 0 ? sysError() : 0;
    return (async () => {
      try {
        await p;
      } catch {
        this.stats.sinkFailures++;
        if (fd >= 0) sys.close(fd); // the kernel will never RELEASE a handle it did not get
        return -EIO;
      }
      if (fd < 0) return openErr;
      const len = this.entryReply(req, parent, n.name, path);
      if (len < 0) {
        sys.close(fd);
        return len;
      }
      const node = Number(u64At(req.out, OUT_HEADER_SIZE)); // entry_out.nodeid
      const mode = this.readPassthrough.open(node, true, fd);
      return ENTRY_OUT_SIZE + this.openReply(req, OUT_HEADER_SIZE + ENTRY_OUT_SIZE, node, fd, mode);
    })();
  }

  private read(req: FuseRequest): HandlerResult {
    const fh = Number(u64At(req.buf, 0)), offset = u64At(req.buf, 8);
    const size = Math.min(u32At(req.buf, 16), req.out.length - OUT_HEADER_SIZE);
    const n = Number(sys.pread(fh, req.out.subarray(OUT_HEADER_SIZE), BigInt(size), offset));
    return n < 0 ? sysError() : n;
  }

  private write(req: FuseRequest, node: number): HandlerResult | Promise<HandlerResult> {
    const fh = Number(u64At(req.buf, 0)), offset = Number(u64At(req.buf, 8)), size = u32At(req.buf, 16);
    const data = req.buf.subarray(IN_HEADER_SIZE + 40, IN_HEADER_SIZE + 40 + size);
    if (data.length !== size) return -EINVAL;
    const path = this.nodes.pathOf(node);
    // A write by an unprivileged caller drops setuid/setgid (we negotiated HANDLE_KILLPRIV_V2, so that is our
    // job). The mode change is replicated before the write, as it happened.
    let killed: Promise<void> | null = null;
    if (u32At(req.buf, 20) & WRITE_KILL_SUIDGID) {
      const st = this.fstat(fh);
      if (typeof st === "number") return st;
      const mode = withoutSuidSgid(st.mode);
      if (mode !== (st.mode & 0o7777)) {
        if (sys.fchmod(fh, mode) !== 0) return sysError();
        if (path !== null) killed = this.replicate({ kind: "setattr", path, mode });
      }
    }
    const reply = () => {
      view(req.out).setUint32(OUT_HEADER_SIZE, size, true);
      view(req.out).setUint32(OUT_HEADER_SIZE + 4, 0, true);
      return 8;
    };
    if (this.sink !== null && path !== null && killed === null && size >= ASYNC_LOCAL_WRITE_BYTES) {
      return this.writeWhileReplicating(fh, path, offset, data, reply);
    }
    const r = pwriteAll(fh, data, offset);
    if (r < 0) return r;
    this.wrote(fh, offset, size);
    if (path === null) {
      this.stats.unreplicatedWrites++; // the file has no name left in the tree
      return reply();
    }
    const written = this.replicate({ kind: "write", path, offset, data });
    return this.settle(killed ? Promise.all([killed, written]).then(() => {}) : written, reply);
  }

  /**
   * A large write that arrives while another one is being copied need not wait at the gate: it is sent at
   * once (its place in the stream follows the earlier write's) and its own copy is queued behind the earlier
   * copy (writeWhileReplicating), so the backing files see the writes in the stream's order too. With the
   * writeback cache the kernel sends several 1 MiB writes at a time; this lets them stream back to back.
   * Only writes that take that path qualify: large, to a file that still has a name, and not dropping
   * setuid/setgid (that path changes the mode first, synchronously).
   */
  private queuesBehindLocalWrite(req: FuseRequest): boolean {
    return req.header.opcode === Op.WRITE && this.sink !== null &&
      u32At(req.buf, 16) >= ASYNC_LOCAL_WRITE_BYTES && (u32At(req.buf, 20) & WRITE_KILL_SUIDGID) === 0 &&
      this.nodes.pathOf(Number(req.header.nodeid)) !== null;
  }

  /**
   * A large write goes to the secondary first and into the backing file at the same time, on a worker
   * thread: the copy overlaps the sealing, sending and acknowledgement instead of preceding them. The
   * stream order is fixed by the replicate() call; the gate in handle() holds every other change until the
   * local copy ends, and a large write arriving meanwhile queues its copy behind it. If the local write then
   * fails (a full or failing disk), the secondary may hold bytes this node does not: the sink is told
   * (diverged), the secondary is dropped and its zones are copied again at its next reintegration; the
   * application gets the error, as it would without replication.
   */
  private writeWhileReplicating(
    fh: number,
    path: string,
    offset: number,
    data: Uint8Array,
    reply: () => HandlerResult,
  ): Promise<HandlerResult> {
    const sink = this.sink!;
    this.stats.overlappedWrites++;
    const written = this.replicate({ kind: "write", path, offset, data });
    written.catch(() => {}); // a sink failure is handled below, once the local copy ended (settle)
    // Behind the copy in progress, if any: the gate settles either way, so a failed copy does not stop this.
    const prior = this.localWrite;
    const local = prior === null
      ? pwriteAllAsync(fh, data, offset)
      : prior.then(() => pwriteAllAsync(fh, data, offset));
    if (prior !== null) this.stats.queuedLocalWrites++;
    const open = () => {
      if (this.localWrite === gate) this.localWrite = null;
    };
    const gate: Promise<void> = local.then(open, open); // settles either way: waiters must never hang
    this.localWrite = gate;
    return (async () => {
      const r = await local;
      if (r < 0) {
        sink.diverged?.(
          `a write of ${data.length} bytes to ${path} failed on this node (errno ${-r}) after it was sent`,
        );
        return r;
      }
      this.wrote(fh, offset, data.length);
      return await this.settle(written, reply);
    })();
  }

  /** A replicated write reached the backing file: a long sequential run starts its writeback. */
  private wrote(fh: number, offset: number, length: number): void {
    if (this.sink === null) return;
    const range = this.runs.note(fh, offset, length);
    if (range !== null) startWriteback(fh, range);
  }

  private statfs(req: FuseRequest): HandlerResult {
    const sv = new Uint8Array(112);
    if (sys.fstatvfs(this.rootFd, sv) !== 0) return sysError();
    const dv = view(sv);
    const g = (o: number) => dv.getBigUint64(o, true);
    return encodeStatfsOut(req.out, {
      bsize: Number(g(0)),
      frsize: Number(g(8)),
      blocks: g(16),
      bfree: g(24),
      bavail: g(32),
      files: g(40),
      ffree: g(48),
      namelen: Number(g(80)),
    });
  }

  private async fsync(req: FuseRequest, node: number): Promise<HandlerResult> {
    const fh = Number(u64At(req.buf, 0)), datasync = (u32At(req.buf, 8) & 1) !== 0;
    if (this.readPassthrough.hasUnmediatedWriters(node)) {
      try {
        await this.reconcile(node, fh);
      } catch {
        this.stats.sinkFailures++;
        return -EIO;
      }
    }
    // The secondary's fsync and ours run at the same time: the reply waits for the slower, not the sum.
    // (An fsync changes nothing in the tree, so sending it before ours completes keeps the order valid.)
    const path = this.nodes.pathOf(node);
    const replicated = path === null
      ? Promise.resolve(true)
      : this.replicate({ kind: "fsync", path, datasync }).then(() => true, () => false);
    const r = await (datasync ? sys.fdatasyncAsync(fh) : sys.fsyncAsync(fh));
    if (!(await replicated)) {
      this.stats.sinkFailures++;
      return -EIO;
    }
    return r !== 0 ? -EIO : 0; // errno of a call made off the JS thread is not observable
  }

  private xattrPath(path: string): Uint8Array {
    return cstr(`/proc/self/fd/${this.rootFd}/${path}`);
  }

  private setxattr(req: FuseRequest, node: number): HandlerResult | Promise<HandlerResult> {
    const path = this.nodes.pathOf(node);
    if (path === null) return -ENOENT;
    const size = u32At(req.buf, 0), flags = u32At(req.buf, 4);
    const n = this.name(req, 8);
    if (typeof n === "number") return n;
    const value = req.buf.subarray(IN_HEADER_SIZE + n.next, IN_HEADER_SIZE + n.next + size);
    if (value.length !== size) return -EINVAL;
    return this.settle(
      this.applyAndReplicate({ kind: "setxattr", path, name: n.name, value, flags }),
      () => 0,
    );
  }

  private removexattr(req: FuseRequest, node: number): HandlerResult | Promise<HandlerResult> {
    const path = this.nodes.pathOf(node);
    if (path === null) return -ENOENT;
    const n = this.name(req, 0);
    if (typeof n === "number") return n;
    return this.settle(this.applyAndReplicate({ kind: "removexattr", path, name: n.name }), () => 0);
  }

  /** GETXATTR and LISTXATTR: size 0 asks for the needed size, otherwise for the bytes. */
  private getxattr(req: FuseRequest, node: number): HandlerResult {
    const path = this.nodes.pathOf(node);
    if (path === null) return -ENOENT;
    const size = u32At(req.buf, 0);
    const room = req.out.subarray(OUT_HEADER_SIZE, OUT_HEADER_SIZE + Math.min(size, 65536));
    let r: number;
    if (req.header.opcode === Op.GETXATTR) {
      const n = this.name(req, 8);
      if (typeof n === "number") return n;
      r = Number(sys.lgetxattr(this.xattrPath(path), cstr(n.name), size ? room : null, BigInt(room.length)));
    } else r = Number(sys.llistxattr(this.xattrPath(path), size ? room : null, BigInt(room.length)));
    if (r < 0) return sysError();
    if (size === 0) {
      view(req.out).setUint32(OUT_HEADER_SIZE, r, true);
      view(req.out).setUint32(OUT_HEADER_SIZE + 4, 0, true);
      return 8;
    }
    return r;
  }

  private opendir(req: FuseRequest, node: number): HandlerResult {
    const path = this.nodes.pathOf(node);
    if (path === null) return -ENOENT;
    const fd = sys.openat(this.rootFd, cstr(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0) return sysError();
    const dir = sys.fdopendir(fd);
    if (dir === null) {
      const e = sysError();
      sys.close(fd);
      return e;
    }
    // The listing is taken whole at OPENDIR: READDIR offsets are then indexes into a stable array.
    const entries: DirListing["entries"] = [];
    for (;;) {
      const e = sys.readdir(dir);
      if (e === null) break;
      const v = new Deno.UnsafePointerView(e);
      const reclen = v.getUint16(16);
      const raw = new Uint8Array(v.getArrayBuffer(reclen - 19, 19));
      const name = raw.slice(0, raw.indexOf(0));
      entries.push({ ino: v.getBigUint64(0), type: v.getUint8(18), name });
    }
    sys.closedir(dir);
    const fh = this.nextDirHandle++;
    this.dirs.set(fh, { entries });
    return encodeOpenOut(req.out, OUT_HEADER_SIZE, BigInt(fh), 0);
  }

  private readdir(req: FuseRequest): HandlerResult {
    const dir = this.dirs.get(Number(u64At(req.buf, 0)));
    if (!dir) return -9; // EBADF
    const start = Number(u64At(req.buf, 8)), size = u32At(req.buf, 16);
    const limit = OUT_HEADER_SIZE + Math.min(size, req.out.length - OUT_HEADER_SIZE);
    let pos = OUT_HEADER_SIZE;
    for (let i = start; i < dir.entries.length; i++) {
      const e = dir.entries[i];
      const next = encodeDirent(req.out, pos, limit, {
        ino: e.ino,
        nextOffset: BigInt(i + 1),
        type: e.type,
        name: e.name,
      });
      if (next < 0) break;
      pos = next;
    }
    return pos - OUT_HEADER_SIZE;
  }

  private fallocate(req: FuseRequest, node: number): HandlerResult | Promise<HandlerResult> {
    const fh = Number(u64At(req.buf, 0)),
      offset = Number(u64At(req.buf, 8)),
      length = Number(u64At(req.buf, 16));
    const mode = u32At(req.buf, 24);
    if (sys.fallocate(fh, mode, BigInt(offset), BigInt(length)) !== 0) return sysError();
    const path = this.nodes.pathOf(node);
    if (path === null) return 0;
    return this.settle(this.replicate({ kind: "fallocate", path, mode, offset, length }), () => 0);
  }

  private lseek(req: FuseRequest): HandlerResult {
    const fh = Number(u64At(req.buf, 0)), offset = u64At(req.buf, 8), whence = u32At(req.buf, 16);
    const r = sys.lseek(fh, offset, whence);
    if (r < 0n) return sysError();
    view(req.out).setBigUint64(OUT_HEADER_SIZE, r, true);
    return 8;
  }
}

/** The permission bits after an unprivileged write: setuid always goes, setgid only with group-exec. */
function withoutSuidSgid(mode: number): number {
  const S_ISUID = 0o4000, S_IXGRP = 0o010;
  return mode & 0o7777 & ~S_ISUID & ~(mode & S_IXGRP ? S_ISGID : 0);
}

/** SETATTR through an open handle, for files that no longer have a name. */
function setattrByFd(fd: number, op: Extract<TreeOp, { kind: "setattr" }>): number {
  const empty = cstr("");
  if (op.uid !== undefined || op.gid !== undefined) {
    if (sys.fchownat(fd, empty, op.uid ?? 0xffffffff, op.gid ?? 0xffffffff, AT_EMPTY_PATH) !== 0) {
      return sysError();
    }
  }
  if (op.mode !== undefined && sys.fchmod(fd, op.mode) !== 0) return sysError();
  if (op.size !== undefined && sys.ftruncate(fd, BigInt(op.size)) !== 0) return sysError();
  if (op.atime || op.mtime) {
    const ts = new Uint8Array(32), dv = view(ts);
    const put = (o: number, t: TreeTime | undefined) => {
      if (!t) dv.setBigInt64(o + 8, BigInt(UTIME_OMIT), true);
      else {
        dv.setBigInt64(o, BigInt(t.sec), true);
        dv.setBigInt64(o + 8, BigInt(t.nsec), true);
      }
    };
    put(0, op.atime);
    put(16, op.mtime);
    if (sys.utimensat(fd, null, ts, 0) !== 0) return sysError(); // NULL path: futimens(fd)
  }
  return 0;
}
