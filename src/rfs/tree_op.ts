// A change to a replicated directory tree, as the primary applied it and as the secondary must replay it.
//
// Paths are relative to the replicated root ("dir/file"; "." is the root itself). An op carries the
// *result* the primary observed where the secondary could otherwise diverge: the owner and mode a create
// ended with (after umask, setgid inheritance and chown), and explicit times instead of "now".
//
// The byte encoding goes over the network, so decoding is bounded and validated: every length is checked
// against the limits below and against the bytes actually present, and every path against the root.

export type TreeTime = { readonly sec: number; readonly nsec: number };

export type TreeOp =
  | { readonly kind: "write"; readonly path: string; readonly offset: number; readonly data: Uint8Array }
  | {
    readonly kind: "create";
    readonly path: string;
    readonly mode: number;
    readonly uid: number;
    readonly gid: number;
    readonly exclusive: boolean;
    readonly truncate: boolean;
  }
  | {
    readonly kind: "mkdir";
    readonly path: string;
    readonly mode: number;
    readonly uid: number;
    readonly gid: number;
  }
  | {
    readonly kind: "mknod";
    readonly path: string;
    readonly mode: number;
    readonly rdev: number;
    readonly uid: number;
    readonly gid: number;
  }
  | {
    readonly kind: "symlink";
    readonly path: string;
    readonly target: string;
    readonly uid: number;
    readonly gid: number;
  }
  | { readonly kind: "link"; readonly path: string; readonly newPath: string }
  | { readonly kind: "unlink"; readonly path: string }
  | { readonly kind: "rmdir"; readonly path: string }
  | { readonly kind: "rename"; readonly from: string; readonly to: string; readonly flags: number }
  | {
    readonly kind: "setattr";
    readonly path: string;
    readonly mode?: number;
    readonly uid?: number;
    readonly gid?: number;
    readonly size?: number;
    readonly atime?: TreeTime;
    readonly mtime?: TreeTime;
  }
  | {
    readonly kind: "fallocate";
    readonly path: string;
    readonly mode: number;
    readonly offset: number;
    readonly length: number;
  }
  | {
    readonly kind: "setxattr";
    readonly path: string;
    readonly name: string;
    readonly value: Uint8Array;
    readonly flags: number;
  }
  | { readonly kind: "removexattr"; readonly path: string; readonly name: string }
  | { readonly kind: "fsync"; readonly path: string; readonly datasync: boolean };

export type TreeOpKind = TreeOp["kind"];

/**
 * Where the tree changes go after the primary applied them. The FUSE server awaits `apply` before it
 * answers the kernel, so a write is acknowledged to the application only once the sink has it.
 * `op.data` / `op.value` may be views into a request buffer that is reused once the promise settles:
 * a sink that keeps them longer must copy them.
 */
export interface ReplicationSink {
  apply(op: TreeOp): Promise<void>;
  /**
   * An op already handed to `apply` then failed on the primary itself (a large write is sent while it is
   * copied locally): the secondary may hold what the primary does not, so it is no longer in sync.
   */
  diverged?(reason: string): void;
}

export const RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2, RENAME_WHITEOUT = 4;

export const TREE_LIMITS = {
  pathBytes: 4096,
  nameBytes: 255,
  dataBytes: 16 << 20,
  xattrNameBytes: 255,
  xattrValueBytes: 65536,
  symlinkTargetBytes: 4095,
} as const;

export class TreePathError extends Error {
  override name = "TreePathError";
}
export class TreeOpDecodeError extends Error {
  override name = "TreeOpDecodeError";
}

const utf8 = new TextEncoder();

/**
 * Checks that `path` names something inside the replicated root: relative, no "." / ".." / empty
 * component, no NUL, within the length limits. "." alone (the root) is accepted only when `allowRoot`.
 */
export function validateTreePath(path: string, allowRoot: boolean): void {
  // Runs for every replicated op on both nodes: the message is only built on failure, and byte lengths
  // are only counted when the UTF-16 length (at most 3 UTF-8 bytes per unit) does not settle them.
  const fail = (why: string): never => {
    throw new TreePathError(`tree path ${JSON.stringify(path)}: ${why}`);
  };
  if (path === ".") {
    if (allowRoot) return;
    fail("the replicated root itself cannot be created, removed or renamed");
  }
  if (path.length === 0) throw new TreePathError(`tree path "": empty (use "." for the replicated root)`);
  if (path.includes("\0")) fail("contains a NUL byte");
  if (path.charCodeAt(0) === 0x2f /* / */) {
    fail("absolute paths are not allowed (paths are relative to the root)");
  }
  if (path.length * 3 > TREE_LIMITS.pathBytes && utf8.encode(path).length > TREE_LIMITS.pathBytes) {
    fail(`longer than ${TREE_LIMITS.pathBytes} bytes`);
  }
  let start = 0;
  for (;;) {
    const slash = path.indexOf("/", start);
    const end = slash < 0 ? path.length : slash;
    const n = end - start;
    if (n === 0) fail(`empty component (doubled or trailing "/")`);
    if (n <= 2 && path.charCodeAt(start) === 0x2e && (n === 1 || path.charCodeAt(start + 1) === 0x2e)) {
      fail(`component "${path.slice(start, end)}" is not allowed (it could leave the root)`);
    }
    if (n * 3 > TREE_LIMITS.nameBytes && utf8.encode(path.slice(start, end)).length > TREE_LIMITS.nameBytes) {
      fail(`a component is longer than ${TREE_LIMITS.nameBytes} bytes`);
    }
    if (slash < 0) return;
    start = slash + 1;
  }
}

function mustBeUint(what: string, v: number, max: number): void {
  if (!Number.isSafeInteger(v) || v < 0 || v > max) {
    throw new TreeOpDecodeError(`tree op field ${what}: ${v} is not an integer in [0, ${max}]`);
  }
}

/** Validates an op built in memory (the encoder runs this too, so nothing invalid goes on the wire). */
export function validateTreeOp(op: TreeOp): void {
  const U32 = 0xffffffff;
  switch (op.kind) {
    case "write":
      validateTreePath(op.path, false);
      mustBeUint("write.offset", op.offset, Number.MAX_SAFE_INTEGER);
      if (op.data.length > TREE_LIMITS.dataBytes) {
        throw new TreeOpDecodeError(
          `tree op write: ${op.data.length} data bytes exceed ${TREE_LIMITS.dataBytes}`,
        );
      }
      return;
    case "create":
    case "mkdir":
    case "mknod":
      validateTreePath(op.path, false);
      mustBeUint(`${op.kind}.mode`, op.mode, U32);
      mustBeUint(`${op.kind}.uid`, op.uid, U32);
      mustBeUint(`${op.kind}.gid`, op.gid, U32);
      if (op.kind === "mknod") mustBeUint("mknod.rdev", op.rdev, U32);
      return;
    case "symlink": {
      validateTreePath(op.path, false);
      mustBeUint("symlink.uid", op.uid, U32);
      mustBeUint("symlink.gid", op.gid, U32);
      const n = utf8.encode(op.target).length;
      if (n === 0 || n > TREE_LIMITS.symlinkTargetBytes || op.target.includes("\0")) {
        throw new TreeOpDecodeError(
          `tree op symlink.target: must be 1..${TREE_LIMITS.symlinkTargetBytes} bytes without NUL (got ${n})`,
        );
      }
      return;
    }
    case "link":
      validateTreePath(op.path, false);
      validateTreePath(op.newPath, false);
      return;
    case "unlink":
    case "rmdir":
      validateTreePath(op.path, false);
      return;
    case "rename":
      validateTreePath(op.from, false);
      validateTreePath(op.to, false);
      mustBeUint("rename.flags", op.flags, RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT);
      if ((op.flags & RENAME_NOREPLACE) && (op.flags & RENAME_EXCHANGE)) {
        throw new TreeOpDecodeError("tree op rename.flags: NOREPLACE and EXCHANGE cannot be combined");
      }
      return;
    case "setattr":
      validateTreePath(op.path, true);
      if (op.mode !== undefined) mustBeUint("setattr.mode", op.mode, 0o7777);
      if (op.uid !== undefined) mustBeUint("setattr.uid", op.uid, U32);
      if (op.gid !== undefined) mustBeUint("setattr.gid", op.gid, U32);
      if (op.size !== undefined) mustBeUint("setattr.size", op.size, Number.MAX_SAFE_INTEGER);
      for (const [what, t] of [["atime", op.atime], ["mtime", op.mtime]] as const) {
        if (t === undefined) continue;
        if (!Number.isSafeInteger(t.sec)) {
          throw new TreeOpDecodeError(`tree op setattr.${what}.sec: not an integer`);
        }
        mustBeUint(`setattr.${what}.nsec`, t.nsec, 999_999_999);
      }
      return;
    case "fallocate":
      validateTreePath(op.path, false);
      mustBeUint("fallocate.mode", op.mode, U32);
      mustBeUint("fallocate.offset", op.offset, Number.MAX_SAFE_INTEGER);
      mustBeUint("fallocate.length", op.length, Number.MAX_SAFE_INTEGER);
      return;
    case "setxattr":
    case "removexattr": {
      validateTreePath(op.path, true);
      const n = utf8.encode(op.name).length;
      if (n === 0 || n > TREE_LIMITS.xattrNameBytes || op.name.includes("\0")) {
        throw new TreeOpDecodeError(
          `tree op ${op.kind}.name: must be 1..${TREE_LIMITS.xattrNameBytes} bytes`,
        );
      }
      if (op.kind === "setxattr") {
        if (op.value.length > TREE_LIMITS.xattrValueBytes) {
          throw new TreeOpDecodeError(
            `tree op setxattr.value: longer than ${TREE_LIMITS.xattrValueBytes} bytes`,
          );
        }
        mustBeUint("setxattr.flags", op.flags, 3);
      }
      return;
    }
    case "fsync":
      validateTreePath(op.path, true);
      return;
    default:
      throw new TreeOpDecodeError(`tree op: unknown kind ${JSON.stringify((op as { kind: unknown }).kind)}`);
  }
}

// ---- wire format ----
// u8 version | u8 kind | kind-specific fields. Strings: u16 length + UTF-8. Blobs: u32 length + bytes.
// Integers little-endian; offsets and sizes as u64 (values above 2^53 are rejected).

const WIRE_VERSION = 1;
const KIND_CODES: readonly TreeOpKind[] = [
  "write",
  "create",
  "mkdir",
  "mknod",
  "symlink",
  "link",
  "unlink",
  "rmdir",
  "rename",
  "setattr",
  "fallocate",
  "setxattr",
  "removexattr",
  "fsync",
];
const SETATTR_MODE = 1,
  SETATTR_UID = 2,
  SETATTR_GID = 4,
  SETATTR_SIZE = 8,
  SETATTR_ATIME = 16,
  SETATTR_MTIME = 32;

class Writer {
  private parts: Uint8Array[] = [];
  private scratch = new DataView(new ArrayBuffer(8));
  private total = 0;
  private push(b: Uint8Array) {
    this.parts.push(b);
    this.total += b.length;
  }
  u8(v: number) {
    this.push(Uint8Array.of(v));
  }
  u32(v: number) {
    this.scratch.setUint32(0, v, true);
    this.push(new Uint8Array(this.scratch.buffer.slice(0, 4)));
  }
  u64(v: number) {
    this.scratch.setBigUint64(0, BigInt(v), true);
    this.push(new Uint8Array(this.scratch.buffer.slice(0, 8)));
  }
  i64(v: number) {
    this.scratch.setBigInt64(0, BigInt(v), true);
    this.push(new Uint8Array(this.scratch.buffer.slice(0, 8)));
  }
  str(s: string) {
    const b = utf8.encode(s);
    const len = new Uint8Array(2);
    new DataView(len.buffer).setUint16(0, b.length, true);
    this.push(len);
    this.push(b);
  }
  blob(b: Uint8Array) {
    this.u32(b.length);
    this.push(b);
  }
  bytes(): Uint8Array {
    return concatBytes(this.parts, this.total);
  }
  /** The encoding as a few pieces: small fields coalesced, large blobs (write data) left uncopied. */
  chunks(): Uint8Array[] {
    return coalesceSmall(this.parts);
  }
}

function concatBytes(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Pieces at least this big are sent as they are (no copy); smaller neighbours are joined. */
const LARGE_PIECE_BYTES = 4096;

/** Joins runs of small pieces into one buffer each and keeps large pieces as they are. */
export function coalesceSmall(parts: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  let runBytes = 0;
  const flush = () => {
    if (run.length === 1) out.push(run[0]);
    else if (run.length > 1) out.push(concatBytes(run, runBytes));
    run = [];
    runBytes = 0;
  };
  for (const p of parts) {
    if (p.length >= LARGE_PIECE_BYTES) {
      flush();
      out.push(p);
    } else {
      run.push(p);
      runBytes += p.length;
    }
  }
  flush();
  return out;
}

export function encodeTreeOp(op: TreeOp): Uint8Array {
  return writeTreeOp(op).bytes();
}

/**
 * The same bytes as encodeTreeOp, as pieces: a write's data is one of them, not copied (the replication
 * stream MACs and sends the pieces one after the other).
 */
export function encodeTreeOpParts(op: TreeOp): Uint8Array[] {
  if (op.kind === "write") {
    validateTreeOp(op);
    return [encodeWriteHeader(op.path, op.offset, op.data.length), op.data];
  }
  return writeTreeOp(op).chunks();
}

const WRITE_KIND = KIND_CODES.indexOf("write");

/**
 * Everything of a write op's encoding before its data, built in one buffer: writes are the hot path
 * (one per FUSE WRITE), the general Writer allocates per field. Same bytes as writeTreeOp.
 */
function encodeWriteHeader(path: string, offset: number, dataLength: number): Uint8Array {
  const p = utf8.encode(path);
  const out = new Uint8Array(2 + 2 + p.length + 8 + 4);
  const dv = new DataView(out.buffer);
  out[0] = WIRE_VERSION;
  out[1] = WRITE_KIND;
  dv.setUint16(2, p.length, true);
  out.set(p, 4);
  let o = 4 + p.length;
  dv.setUint32(o, offset % 0x1_0000_0000, true);
  dv.setUint32(o + 4, Math.floor(offset / 0x1_0000_0000), true);
  o += 8;
  dv.setUint32(o, dataLength, true);
  return out;
}

function writeTreeOp(op: TreeOp): Writer {
  validateTreeOp(op);
  const w = new Writer();
  w.u8(WIRE_VERSION);
  w.u8(KIND_CODES.indexOf(op.kind));
  switch (op.kind) {
    case "write":
      w.str(op.path);
      w.u64(op.offset);
      w.blob(op.data);
      break;
    case "create":
      w.str(op.path);
      w.u32(op.mode);
      w.u32(op.uid);
      w.u32(op.gid);
      w.u8((op.exclusive ? 1 : 0) | (op.truncate ? 2 : 0));
      break;
    case "mkdir":
      w.str(op.path);
      w.u32(op.mode);
      w.u32(op.uid);
      w.u32(op.gid);
      break;
    case "mknod":
      w.str(op.path);
      w.u32(op.mode);
      w.u32(op.rdev);
      w.u32(op.uid);
      w.u32(op.gid);
      break;
    case "symlink":
      w.str(op.path);
      w.str(op.target);
      w.u32(op.uid);
      w.u32(op.gid);
      break;
    case "link":
      w.str(op.path);
      w.str(op.newPath);
      break;
    case "unlink":
    case "rmdir":
      w.str(op.path);
      break;
    case "rename":
      w.str(op.from);
      w.str(op.to);
      w.u32(op.flags);
      break;
    case "setattr": {
      w.str(op.path);
      const present = (op.mode !== undefined ? SETATTR_MODE : 0) | (op.uid !== undefined ? SETATTR_UID : 0) |
        (op.gid !== undefined ? SETATTR_GID : 0) | (op.size !== undefined ? SETATTR_SIZE : 0) |
        (op.atime !== undefined ? SETATTR_ATIME : 0) | (op.mtime !== undefined ? SETATTR_MTIME : 0);
      w.u8(present);
      if (op.mode !== undefined) w.u32(op.mode);
      if (op.uid !== undefined) w.u32(op.uid);
      if (op.gid !== undefined) w.u32(op.gid);
      if (op.size !== undefined) w.u64(op.size);
      for (const t of [op.atime, op.mtime]) {
        if (t === undefined) continue;
        w.i64(t.sec);
        w.u32(t.nsec);
      }
      break;
    }
    case "fallocate":
      w.str(op.path);
      w.u32(op.mode);
      w.u64(op.offset);
      w.u64(op.length);
      break;
    case "setxattr":
      w.str(op.path);
      w.str(op.name);
      w.blob(op.value);
      w.u32(op.flags);
      break;
    case "removexattr":
      w.str(op.path);
      w.str(op.name);
      break;
    case "fsync":
      w.str(op.path);
      w.u8(op.datasync ? 1 : 0);
      break;
  }
  return w;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

class Reader {
  private pos = 0;
  private dv: DataView;
  constructor(private b: Uint8Array) {
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  private need(n: number, what: string) {
    if (this.pos + n > this.b.length) {
      throw new TreeOpDecodeError(
        `tree op: truncated at byte ${this.pos} reading ${what} (${n} bytes needed, ${
          this.b.length - this.pos
        } left)`,
      );
    }
  }
  u8(what: string): number {
    this.need(1, what);
    return this.b[this.pos++];
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.dv.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(what: string): number {
    this.need(8, what);
    const v = this.dv.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new TreeOpDecodeError(`tree op ${what}: ${v} is above 2^53`);
    }
    return Number(v);
  }
  i64(what: string): number {
    this.need(8, what);
    const v = this.dv.getBigInt64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new TreeOpDecodeError(`tree op ${what}: ${v} is out of range`);
    }
    return Number(v);
  }
  str(what: string, max: number): string {
    this.need(2, what);
    const n = this.dv.getUint16(this.pos, true);
    this.pos += 2;
    if (n > max) throw new TreeOpDecodeError(`tree op ${what}: ${n} bytes exceed the limit of ${max}`);
    this.need(n, what);
    const bytes = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    try {
      return strictUtf8.decode(bytes);
    } catch {
      throw new TreeOpDecodeError(`tree op ${what}: not valid UTF-8`);
    }
  }
  blob(what: string, max: number): Uint8Array {
    const n = this.u32(`${what} length`);
    if (n > max) throw new TreeOpDecodeError(`tree op ${what}: ${n} bytes exceed the limit of ${max}`);
    this.need(n, what);
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  end() {
    if (this.pos !== this.b.length) {
      throw new TreeOpDecodeError(`tree op: ${this.b.length - this.pos} unexpected trailing bytes`);
    }
  }
}

/** Decodes and validates one op. `data`/`value` of the result are views into `bytes`. */
export function decodeTreeOp(bytes: Uint8Array): TreeOp {
  const r = new Reader(bytes);
  const version = r.u8("version");
  if (version !== WIRE_VERSION) {
    throw new TreeOpDecodeError(
      `tree op: wire version ${version} is not supported (expected ${WIRE_VERSION})`,
    );
  }
  const code = r.u8("kind");
  const kind = KIND_CODES[code];
  if (kind === undefined) throw new TreeOpDecodeError(`tree op: unknown kind code ${code}`);
  const P = TREE_LIMITS.pathBytes;
  let op: TreeOp;
  switch (kind) {
    case "write":
      op = {
        kind,
        path: r.str("write.path", P),
        offset: r.u64("write.offset"),
        data: r.blob("write.data", TREE_LIMITS.dataBytes),
      };
      break;
    case "create": {
      const path = r.str("create.path", P), mode = r.u32("create.mode"), uid = r.u32("create.uid");
      const gid = r.u32("create.gid"), f = r.u8("create.flags");
      if (f > 3) throw new TreeOpDecodeError(`tree op create.flags: unknown bits 0x${f.toString(16)}`);
      op = { kind, path, mode, uid, gid, exclusive: (f & 1) !== 0, truncate: (f & 2) !== 0 };
      break;
    }
    case "mkdir":
      op = { kind, path: r.str("mkdir.path", P), mode: r.u32("mode"), uid: r.u32("uid"), gid: r.u32("gid") };
      break;
    case "mknod":
      op = {
        kind,
        path: r.str("mknod.path", P),
        mode: r.u32("mode"),
        rdev: r.u32("rdev"),
        uid: r.u32("uid"),
        gid: r.u32("gid"),
      };
      break;
    case "symlink":
      op = {
        kind,
        path: r.str("symlink.path", P),
        target: r.str("symlink.target", TREE_LIMITS.symlinkTargetBytes),
        uid: r.u32("uid"),
        gid: r.u32("gid"),
      };
      break;
    case "link":
      op = { kind, path: r.str("link.path", P), newPath: r.str("link.newPath", P) };
      break;
    case "unlink":
    case "rmdir":
      op = { kind, path: r.str(`${kind}.path`, P) };
      break;
    case "rename":
      op = { kind, from: r.str("rename.from", P), to: r.str("rename.to", P), flags: r.u32("rename.flags") };
      break;
    case "setattr": {
      const path = r.str("setattr.path", P);
      const present = r.u8("setattr.present");
      if (present > 63) {
        throw new TreeOpDecodeError(`tree op setattr.present: unknown bits 0x${present.toString(16)}`);
      }
      const s: {
        -readonly [K in keyof Extract<TreeOp, { kind: "setattr" }>]: Extract<TreeOp, { kind: "setattr" }>[K];
      } = { kind, path };
      if (present & SETATTR_MODE) s.mode = r.u32("setattr.mode");
      if (present & SETATTR_UID) s.uid = r.u32("setattr.uid");
      if (present & SETATTR_GID) s.gid = r.u32("setattr.gid");
      if (present & SETATTR_SIZE) s.size = r.u64("setattr.size");
      if (present & SETATTR_ATIME) {
        s.atime = { sec: r.i64("setattr.atime"), nsec: r.u32("setattr.atime.nsec") };
      }
      if (present & SETATTR_MTIME) {
        s.mtime = { sec: r.i64("setattr.mtime"), nsec: r.u32("setattr.mtime.nsec") };
      }
      op = s;
      break;
    }
    case "fallocate":
      op = {
        kind,
        path: r.str("fallocate.path", P),
        mode: r.u32("fallocate.mode"),
        offset: r.u64("fallocate.offset"),
        length: r.u64("fallocate.length"),
      };
      break;
    case "setxattr":
      op = {
        kind,
        path: r.str("setxattr.path", P),
        name: r.str("setxattr.name", TREE_LIMITS.xattrNameBytes),
        value: r.blob("setxattr.value", TREE_LIMITS.xattrValueBytes),
        flags: r.u32("setxattr.flags"),
      };
      break;
    case "removexattr":
      op = {
        kind,
        path: r.str("removexattr.path", P),
        name: r.str("removexattr.name", TREE_LIMITS.xattrNameBytes),
      };
      break;
    case "fsync": {
      const path = r.str("fsync.path", P), d = r.u8("fsync.datasync");
      if (d > 1) throw new TreeOpDecodeError(`tree op fsync.datasync: ${d} is not 0 or 1`);
      op = { kind, path, datasync: d === 1 };
      break;
    }
  }
  r.end();
  try {
    validateTreeOp(op);
  } catch (e) {
    if (e instanceof TreePathError) throw new TreeOpDecodeError(e.message);
    throw e;
  }
  return op;
}
