// Authenticated datagram framing for node-to-node UDP traffic, keyed by the cluster key (spec §1.2, §12).
//
// Frame layout (big-endian):
//   magic "SKv1" (4) | version u8 | kind u8 | sender length u8 | sender UTF-8 (1..255)
//   | boot epoch u64 | sequence u64 | payload length u16 | payload | HMAC-SHA256 (32) over all bytes before it
//
// Why this order of checks in `open`: the size bounds come first so an attacker cannot make us touch a huge
// buffer; magic and version are fixed-offset byte compares (no length field is read) so stray traffic from
// another protocol or release is reported precisely; then the MAC. Nothing whose position depends on a length
// field is read before the MAC verifies, so a forger can never steer the parser.
//
// Why epochs: a sequence number alone would make a restarted sender (seq back to 0) look like a replayer.
// Each process start picks a boot epoch that grows with wall-clock time (`newBootEpoch`); a receiver accepts
// a higher epoch from a sender at once and refuses any lower one afterwards. Hazard to know: if a node's
// clock is stepped back across a restart, its peers refuse it until they restart or forget it
// (`forgetSender`).
//
// SafeKit 8.2 encrypts these packets (AES-128-CBC + SHA256). Heartbeats carry no secret (node names and a
// membership view), so we authenticate only; confidentiality is not needed for the membership protocol.
import { createHmac, timingSafeEqual } from "node:crypto";

export const CLUSTER_KEY_BYTES = 32;
export const FRAME_MAGIC = new Uint8Array([0x53, 0x4b, 0x76, 0x31]); // "SKv1"
export const FRAME_VERSION = 1;
export const MAC_BYTES = 32;
/** Keeps frames under a typical 1500-byte MTU so they are never fragmented. */
export const DEFAULT_MAX_FRAME_BYTES = 1400;
/** How many sequence numbers behind the highest one seen are still accepted (reordering tolerance). */
export const REPLAY_WINDOW = 64;
const WINDOW_MASK = (1n << BigInt(REPLAY_WINDOW)) - 1n;
const HEADER_FIXED_BYTES = 4 + 1 + 1 + 1 + 8 + 8 + 2; // everything but the sender name and the payload
/** The smallest frame that could be valid: a 1-byte sender name, an empty payload and the MAC. */
export const MIN_FRAME_BYTES = HEADER_FIXED_BYTES + 1 + MAC_BYTES;

/** What a frame carries; `kind` lets several protocols share one key (1 = membership pulse). */
export type Packet = {
  readonly kind: number;
  readonly sender: string;
  readonly epoch: number;
  readonly seq: number;
  readonly payload: Uint8Array;
};

export type RejectReason =
  | "truncated"
  | "oversized"
  | "bad_magic"
  | "bad_version"
  | "bad_mac"
  | "malformed" // MAC is valid but the lengths inside do not add up: a key holder with a broken encoder
  | "unknown_sender"
  | "replayed";

export const REJECT_REASONS: readonly RejectReason[] = [
  "truncated",
  "oversized",
  "bad_magic",
  "bad_version",
  "bad_mac",
  "malformed",
  "unknown_sender",
  "replayed",
];

/** Per sender: the newest boot epoch seen, the highest sequence in it, and which of the 64 below were seen. */
export type SenderWindow = { readonly epoch: number; readonly top: number; readonly seen: bigint };
export type ReplayState = ReadonlyMap<string, SenderWindow>;
export const emptyReplayState = (): ReplayState => new Map();

export type OpenOptions = {
  /** Node names of cluster.xml; a frame from any other name is refused even with a valid MAC. */
  readonly allowedSenders: ReadonlySet<string>;
  readonly maxFrameBytes?: number;
};

export type OpenResult =
  | { readonly ok: true; readonly packet: Packet; readonly replayState: ReplayState }
  | { readonly ok: false; readonly reason: RejectReason };

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** 32 random bytes: a fresh cluster key (`safekit cluster genkey`). */
export function generateClusterKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(CLUSTER_KEY_BYTES));
}

/**
 * A boot epoch that grows across restarts of the same node: milliseconds since 1970 times 1024, plus random
 * low bits so two starts within one millisecond still differ. Stays below 2^53 until the year 2248.
 */
export function newBootEpoch(nowMs: number, random1024 = Math.floor(Math.random() * 1024)): number {
  return Math.floor(nowMs) * 1024 + (random1024 & 1023);
}

function checkKey(key: Uint8Array): void {
  if (key.length !== CLUSTER_KEY_BYTES) {
    throw new RangeError(`cluster key must be ${CLUSTER_KEY_BYTES} bytes, got ${key.length}`);
  }
}

function checkU53(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a safe non-negative integer`);
}

function mac(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac("sha256", key).update(data).digest());
}

/** Builds a frame. Throws only on programming errors (bad key size, out-of-range fields, frame too big). */
export function seal(key: Uint8Array, packet: Packet, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Uint8Array {
  checkKey(key);
  const name = encoder.encode(packet.sender);
  if (name.length < 1 || name.length > 255) throw new RangeError("sender name must be 1..255 UTF-8 bytes");
  if (!Number.isInteger(packet.kind) || packet.kind < 0 || packet.kind > 255) {
    throw new RangeError("kind must be a byte");
  }
  checkU53("epoch", packet.epoch);
  checkU53("seq", packet.seq);
  const total = HEADER_FIXED_BYTES + name.length + packet.payload.length + MAC_BYTES;
  if (packet.payload.length > 0xffff || total > maxFrameBytes) {
    throw new RangeError(`frame of ${total} bytes exceeds the ${maxFrameBytes}-byte limit`);
  }
  const frame = new Uint8Array(total);
  const view = new DataView(frame.buffer);
  frame.set(FRAME_MAGIC, 0);
  let at = 4;
  frame[at++] = FRAME_VERSION;
  frame[at++] = packet.kind;
  frame[at++] = name.length;
  frame.set(name, at);
  at += name.length;
  view.setBigUint64(at, BigInt(packet.epoch));
  at += 8;
  view.setBigUint64(at, BigInt(packet.seq));
  at += 8;
  view.setUint16(at, packet.payload.length);
  at += 2;
  frame.set(packet.payload, at);
  at += packet.payload.length;
  frame.set(mac(key, frame.subarray(0, at)), at);
  return frame;
}

/** Verifies and decodes a frame. Never throws on any `bytes`; returns the new replay state on success. */
export function open(
  key: Uint8Array,
  bytes: Uint8Array,
  replayState: ReplayState,
  options: OpenOptions,
): OpenResult {
  checkKey(key);
  const maxFrame = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  if (bytes.length > maxFrame) return { ok: false, reason: "oversized" };
  if (bytes.length < MIN_FRAME_BYTES) return { ok: false, reason: "truncated" };
  for (let i = 0; i < FRAME_MAGIC.length; i++) {
    if (bytes[i] !== FRAME_MAGIC[i]) return { ok: false, reason: "bad_magic" };
  }
  if (bytes[4] !== FRAME_VERSION) return { ok: false, reason: "bad_version" };

  const signedEnd = bytes.length - MAC_BYTES;
  const expected = mac(key, bytes.subarray(0, signedEnd));
  if (!timingSafeEqual(expected, bytes.subarray(signedEnd))) return { ok: false, reason: "bad_mac" };

  const packet = parseSigned(bytes.subarray(0, signedEnd));
  if (packet === null) return { ok: false, reason: "malformed" };
  if (!options.allowedSenders.has(packet.sender)) return { ok: false, reason: "unknown_sender" };
  const window = acceptSequence(replayState.get(packet.sender), packet.epoch, packet.seq);
  if (window === null) return { ok: false, reason: "replayed" };
  const next = new Map(replayState);
  next.set(packet.sender, window);
  return { ok: true, packet, replayState: next };
}

/** Drops what we remember of a sender, so it is accepted again with any epoch (e.g. after its clock stepped back). */
export function forgetSender(replayState: ReplayState, sender: string): ReplayState {
  if (!replayState.has(sender)) return replayState;
  const next = new Map(replayState);
  next.delete(sender);
  return next;
}

// Only called once the MAC verified, so the lengths inside come from a key holder.
function parseSigned(signed: Uint8Array): Packet | null {
  const view = new DataView(signed.buffer, signed.byteOffset, signed.byteLength);
  const kind = signed[5];
  const nameLength = signed[6];
  let at = 7;
  if (nameLength === 0 || at + nameLength + 18 > signed.length) return null;
  let sender: string;
  try {
    sender = strictDecoder.decode(signed.subarray(at, at + nameLength));
  } catch {
    return null;
  }
  at += nameLength;
  const epoch = view.getBigUint64(at);
  const seq = view.getBigUint64(at + 8);
  const payloadLength = view.getUint16(at + 16);
  at += 18;
  if (at + payloadLength !== signed.length) return null;
  if (epoch > BigInt(Number.MAX_SAFE_INTEGER) || seq > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return { kind, sender, epoch: Number(epoch), seq: Number(seq), payload: signed.slice(at) };
}

/** Sliding-window replay check (as in IPsec, RFC 4303 §3.4.3); returns the new window or null if replayed. */
export function acceptSequence(
  window: SenderWindow | undefined,
  epoch: number,
  seq: number,
): SenderWindow | null {
  if (window === undefined || epoch > window.epoch) return { epoch, top: seq, seen: 1n };
  if (epoch < window.epoch) return null;
  if (seq > window.top) {
    const shift = seq - window.top;
    const seen = shift >= REPLAY_WINDOW ? 1n : ((window.seen << BigInt(shift)) | 1n) & WINDOW_MASK;
    return { epoch, top: seq, seen };
  }
  const behind = window.top - seq;
  if (behind >= REPLAY_WINDOW) return null;
  const bit = 1n << BigInt(behind);
  if ((window.seen & bit) !== 0n) return null;
  return { ...window, seen: window.seen | bit };
}
