// Messages of the replication protocol and their payload codecs. One message = one frame; the frame type
// byte says which message it is.
//
//   primary (client)                         secondary (server, port 5600+(id-1)*4)
//   hello {nonce_c, node, module, dirs} ──>
//                                        <── challenge {nonce_s, proof}
//   ready {async, dropped}               ──>   (first frame under the session keys)
//                                        <── welcome
//   op {opId, dir, TreeOp}               ──>
//                                        <── ack {opId}  (cumulative)
//   ping / pong                          <─>
//                                        <── reiRequest {reqId, list|stat|read, dir, path, offset, length}
//   reiReply {reqId, errno, entries|entry+data} ──>   (same ordered stream as the ops)
//                                        <── synced    (reintegration finished: the trees are equal)
//   error {reason}                       <─>   (then the sender closes)

import { FrameError } from "./frame_codec.ts";
import { PayloadReader, PayloadWriter } from "./wire.ts";
import {
  coalesceSmall,
  decodeTreeOp,
  encodeTreeOp,
  encodeTreeOpParts,
  type TreeOp,
  TreeOpDecodeError,
} from "../tree_op.ts";
import { ENTRY_TYPES, type TreeEntry } from "../tree_entry.ts";

export const NONCE_BYTES = 32;
export const PROOF_BYTES = 32;

export const MESSAGE_TYPES = {
  hello: 1,
  challenge: 2,
  ready: 3,
  welcome: 4,
  op: 5,
  ack: 6,
  ping: 7,
  pong: 8,
  error: 9,
  reiRequest: 10,
  reiReply: 11,
  synced: 12,
} as const;
export type MessageType = keyof typeof MESSAGE_TYPES;

export type ReiRequestKind = "list" | "stat" | "read";
const REI_KINDS: readonly ReiRequestKind[] = ["list", "stat", "read"];

export type Message =
  | {
    readonly type: "hello";
    readonly nonce: Uint8Array;
    readonly node: string;
    readonly module: string;
    /** number of <replicated> directories the primary replicates: both sides must agree */
    readonly dirCount: number;
  }
  | { readonly type: "challenge"; readonly nonce: Uint8Array; readonly proof: Uint8Array }
  | {
    readonly type: "ready";
    readonly async: "second" | "none";
    /** ops were dropped since this primary's last completed reintegration (informational) */
    readonly dropped: boolean;
  }
  | { readonly type: "welcome" }
  | { readonly type: "op"; readonly opId: number; readonly dir: number; readonly op: TreeOp }
  | { readonly type: "ack"; readonly opId: number }
  | { readonly type: "ping"; readonly nonce: number }
  | { readonly type: "pong"; readonly nonce: number }
  | { readonly type: "error"; readonly reason: string }
  | {
    readonly type: "reiRequest";
    readonly reqId: number;
    readonly kind: ReiRequestKind;
    readonly dir: number;
    readonly path: string;
    readonly offset: number;
    readonly length: number;
  }
  | {
    readonly type: "reiReply";
    readonly reqId: number;
    /** 0 = success, else the primary's errno */
    readonly errno: number;
    readonly entries?: readonly TreeEntry[];
    readonly entry?: TreeEntry;
    readonly data?: Uint8Array;
  }
  | { readonly type: "synced" };

/** Largest data a read reply may carry (reipacketsize is capped to this). */
export const MAX_READ_BYTES = 8 << 20;

const TYPE_NAMES = new Map<number, MessageType>(
  Object.entries(MESSAGE_TYPES).map(([k, v]) => [v, k as MessageType]),
);

function writeEntry(w: PayloadWriter, e: TreeEntry): void {
  w.str(e.name).u8(ENTRY_TYPES.indexOf(e.type)).u32(e.mode).u32(e.uid).u32(e.gid).u64(e.size)
    .i64(e.mtimeSec).u32(e.mtimeNsec).u32(e.rdev).str(e.target ?? "");
}

function readEntry(r: PayloadReader): TreeEntry {
  const name = r.str("entry.name", 255);
  const t = r.u8("entry.type");
  const type = ENTRY_TYPES[t];
  if (type === undefined) throw new FrameError("malformed", `reiReply.entry.type: unknown code ${t}`);
  const mode = r.u32("entry.mode"), uid = r.u32("entry.uid"), gid = r.u32("entry.gid");
  const size = r.u64("entry.size"), mtimeSec = r.i64("entry.mtimeSec"), mtimeNsec = r.u32("entry.mtimeNsec");
  const rdev = r.u32("entry.rdev");
  const target = r.str("entry.target", 4095);
  if (
    name === "" || name === "." && type !== "dir" || name === ".." || name.includes("/") ||
    name.includes("\0")
  ) {
    throw new FrameError("malformed", `reiReply.entry.name: ${JSON.stringify(name)} is not a file name`);
  }
  if (mtimeNsec > 999_999_999) throw new FrameError("malformed", "reiReply.entry.mtimeNsec out of range");
  if (type === "symlink" && target === "") {
    throw new FrameError("malformed", "reiReply: symlink without target");
  }
  return {
    name,
    type,
    mode,
    uid,
    gid,
    size,
    mtimeSec,
    mtimeNsec,
    rdev,
    ...(type === "symlink" ? { target } : {}),
  };
}

export function encodeMessage(m: Message): { type: number; payload: Uint8Array } {
  const w = new PayloadWriter();
  switch (m.type) {
    case "hello":
      if (m.nonce.length !== NONCE_BYTES) throw new RangeError("hello nonce must be 32 bytes");
      w.raw(m.nonce).str(m.node).str(m.module).u16(m.dirCount);
      break;
    case "challenge":
      w.raw(m.nonce).raw(m.proof);
      break;
    case "ready":
      w.u8(m.async === "none" ? 1 : 0).u8(m.dropped ? 1 : 0);
      break;
    case "welcome":
    case "synced":
      break;
    case "op":
      w.u64(m.opId).u16(m.dir).raw(encodeTreeOp(m.op));
      break;
    case "ack":
      w.u64(m.opId);
      break;
    case "ping":
    case "pong":
      w.u64(m.nonce);
      break;
    case "error":
      w.str(m.reason.slice(0, 2000));
      break;
    case "reiRequest":
      w.u32(m.reqId).u8(REI_KINDS.indexOf(m.kind)).u16(m.dir).str(m.path).u64(m.offset).u32(m.length);
      break;
    case "reiReply":
      w.u32(m.reqId).u16(m.errno);
      if (m.errno === 0) {
        if (m.entries !== undefined) {
          w.u8(1).u32(m.entries.length);
          for (const e of m.entries) writeEntry(w, e);
        } else if (m.entry !== undefined) {
          w.u8(m.data !== undefined ? 3 : 2);
          writeEntry(w, m.entry);
          if (m.data !== undefined) w.blob(m.data);
        } else throw new RangeError("reiReply: a success carries entries or an entry");
      }
      break;
  }
  return { type: MESSAGE_TYPES[m.type], payload: w.bytes() };
}

/**
 * The same payload as encodeMessage, as pieces whose concatenation is the payload: a write op's data, and
 * a read reply's, is one piece, not copied, so 1 MiB of data costs no allocation and no copy on its way to
 * the socket (the sender must not change it until it is written, see FrameChannel.send).
 */
export function encodeMessageParts(m: Message): { type: number; parts: Uint8Array[]; length: number } {
  if (m.type === "reiReply" && m.errno === 0 && m.entry !== undefined && m.data !== undefined) {
    // A read reply (up to reipacketsize of file data): the data is the last field, sent from where it is.
    const w = new PayloadWriter().u32(m.reqId).u16(m.errno).u8(3);
    writeEntry(w, m.entry);
    const head = w.u32(m.data.length).bytes();
    return { type: MESSAGE_TYPES.reiReply, parts: [head, m.data], length: head.length + m.data.length };
  }
  if (m.type !== "op") {
    const { type, payload } = encodeMessage(m);
    return { type, parts: [payload], length: payload.length };
  }
  const head = new Uint8Array(10);
  const dv = new DataView(head.buffer);
  dv.setBigUint64(0, BigInt(m.opId));
  dv.setUint16(8, m.dir);
  const parts = coalesceSmall([head, ...encodeTreeOpParts(m.op)]);
  let length = 0;
  for (const p of parts) length += p.length;
  return { type: MESSAGE_TYPES.op, parts, length };
}

/** Decodes a verified frame's payload; FrameError("malformed") names the field on bad input. */
export function decodeMessage(type: number, payload: Uint8Array): Message {
  const name = TYPE_NAMES.get(type);
  if (name === undefined) throw new FrameError("malformed", `unknown message type ${type}`);
  const r = new PayloadReader(payload, name);
  let m: Message;
  switch (name) {
    case "hello": {
      const nonce = r.raw("nonce", NONCE_BYTES);
      m = {
        type: name,
        nonce,
        node: r.str("node", 255),
        module: r.str("module", 255),
        dirCount: r.u16("dirs"),
      };
      break;
    }
    case "challenge":
      m = { type: name, nonce: r.raw("nonce", NONCE_BYTES), proof: r.raw("proof", PROOF_BYTES) };
      break;
    case "ready": {
      const a = r.u8("async"), d = r.u8("dropped");
      if (a > 1 || d > 1) throw new FrameError("malformed", "ready: async/dropped must be 0 or 1");
      m = { type: name, async: a === 1 ? "none" : "second", dropped: d === 1 };
      break;
    }
    case "welcome":
    case "synced":
      m = { type: name };
      break;
    case "op": {
      const opId = r.u64("opId"), dir = r.u16("dir");
      try {
        m = { type: name, opId, dir, op: decodeTreeOp(r.rest()) };
      } catch (e) {
        if (e instanceof TreeOpDecodeError) throw new FrameError("malformed", `op: ${e.message}`);
        throw e;
      }
      break;
    }
    case "ack":
      m = { type: name, opId: r.u64("opId") };
      break;
    case "ping":
    case "pong":
      m = { type: name, nonce: r.u64("nonce") };
      break;
    case "error":
      m = { type: name, reason: r.str("reason", 8000) };
      break;
    case "reiRequest": {
      const reqId = r.u32("reqId"), k = r.u8("kind");
      const kind = REI_KINDS[k];
      if (kind === undefined) throw new FrameError("malformed", `reiRequest.kind: unknown code ${k}`);
      m = {
        type: name,
        reqId,
        kind,
        dir: r.u16("dir"),
        path: r.str("path", 4096),
        offset: r.u64("offset"),
        length: r.u32("length"),
      };
      if (m.length > MAX_READ_BYTES) {
        throw new FrameError("malformed", `reiRequest.length: ${m.length} exceeds ${MAX_READ_BYTES}`);
      }
      break;
    }
    case "reiReply": {
      const reqId = r.u32("reqId"), errno = r.u16("errno");
      if (errno !== 0) {
        m = { type: name, reqId, errno };
        break;
      }
      const shape = r.u8("shape");
      if (shape === 1) {
        const n = r.u32("count");
        // Each entry takes at least 42 bytes: refuse a count the payload cannot hold before allocating.
        if (n * 42 > payload.length) throw new FrameError("malformed", `reiReply.count: ${n} is impossible`);
        const entries: TreeEntry[] = [];
        for (let i = 0; i < n; i++) entries.push(readEntry(r));
        m = { type: name, reqId, errno, entries };
      } else if (shape === 2 || shape === 3) {
        const entry = readEntry(r);
        m = shape === 2 ? { type: name, reqId, errno, entry } : {
          type: name,
          reqId,
          errno,
          entry,
          data: r.blob("data", MAX_READ_BYTES),
        };
      } else throw new FrameError("malformed", `reiReply.shape: unknown code ${shape}`);
      break;
    }
  }
  r.end();
  return m;
}
