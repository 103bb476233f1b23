// One authenticated, ordered message stream over a TCP connection: messages are sealed with the sending
// key and the next sequence number at the moment `send` is called (so the stream order is the call
// order), written by a single writer loop, and received, verified and decoded one by one.

import { asFrameAuth, type FrameAuth } from "./frame_auth.ts";
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  DIRECT_PAYLOAD_BYTES,
  type Frame,
  FRAME_HEADER_BYTES,
  FRAME_MAC_BYTES,
  FrameDecoder,
  FrameError,
  PayloadPool,
  sealFrameParts,
} from "./frame_codec.ts";
import { decodeMessage, encodeMessageParts, type Message } from "./messages.ts";

/** What writes and reads a byte stream: a Deno.TcpConn in production, anything alike in tests. */
export type ByteStream = {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
};

export class ChannelClosedError extends Error {
  override name = "ChannelClosedError";
}

const WRITE_BATCH_BYTES = 1 << 20;
/** Header and the largest tag: an upper bound of a frame's bytes beyond its payload (for queuedBytes). */
const FRAME_OVERHEAD = FRAME_HEADER_BYTES + FRAME_MAC_BYTES;
/**
 * A frame at least this big is written as soon as it is sealed (so it travels while the next is sealed);
 * smaller ones are gathered into one write. Pieces are copied into the batch buffer (allocated once): a
 * copy of 256 KiB costs far less than the extra socket write and event-loop round trip of sending the
 * header, the data and the MAC separately. Only a piece larger than the batch is written from where it is.
 */
const EAGER_FLUSH_BYTES = 64 * 1024;

/** A message whose place in the stream (seq) and key are fixed, sealed only when the writer reaches it. */
type Outgoing = {
  readonly key: FrameAuth;
  readonly type: number;
  readonly seq: number;
  readonly parts: Uint8Array[];
  readonly bytes: number;
  readonly onWritten?: () => void;
};

export class FrameChannel {
  private sendSeq = 0;
  private readonly decoder: FrameDecoder;
  private readonly outbound: Outgoing[] = [];
  private writing = false;
  /** Small frames are gathered here and written with one syscall; allocated once. */
  private batch: Uint8Array | null = null;
  /** Received payloads of large writes come from here; the receiver gives them back (recycle). */
  readonly pool = new PayloadPool();
  /**
   * Where bytes go when no large payload is being received. Kept at the size of DIRECT_PAYLOAD_BYTES: the
   * first read of a large frame lands here and is copied into its payload, the rest is read in place, so a
   * bigger buffer would only mean a bigger copy (a 256 KiB write piece was copied whole with 256 KiB).
   */
  private readonly readBuf = new Uint8Array(DIRECT_PAYLOAD_BYTES);
  private closedReason: string | null = null;
  private resolveClosed!: (reason: string) => void;
  /** Resolves with the reason once the channel is closed (by either side or an error). */
  readonly closed: Promise<string> = new Promise((r) => (this.resolveClosed = r));
  /** When the write in progress started; null when nothing is being written (for sendtimeout). */
  writeStartedAt: number | null = null;
  /** Bytes sealed but not yet handed to the socket. */
  queuedBytes = 0;
  private drainWaiters: (() => void)[] = [];

  private sendKey: FrameAuth;

  /** A raw key is an HMAC-SHA256 key (the handshake algorithm), see frame_auth.ts. */
  constructor(
    private readonly stream: ByteStream,
    sendKey: Uint8Array | FrameAuth,
    recvKey: Uint8Array | FrameAuth,
    private readonly now: () => number = Date.now,
    private readonly maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES,
  ) {
    this.sendKey = asFrameAuth(sendKey);
    this.decoder = new FrameDecoder(recvKey, 0, maxPayloadBytes, this.pool);
  }

  get isClosed(): boolean {
    return this.closedReason !== null;
  }

  /** Switches to the session keys; takes effect for the next frame sent / received. */
  rekey(sendKey: Uint8Array | FrameAuth, recvKey: Uint8Array | FrameAuth): void {
    this.sendKey = asFrameAuth(sendKey);
    this.decoder.rekey(recvKey);
  }

  /**
   * Queues `m` now: its place in the stream (sequence number) and its key are fixed by this call, so the
   * stream order is the call order; never blocks. The MAC is computed by the writer just before the frame
   * goes out, so a large write is sealed while the previous one travels and the peer verifies it. Byte
   * arrays inside `m` (a write's or a read reply's data) are sent from where they are: they must not change
   * until the frame is written (the replication client keeps a write's until the op is acknowledged, and
   * reuses a read reply's buffer once `onWritten` is called: every byte is then copied or written; it is
   * not called if the channel closes first).
   */
  send(m: Message, onWritten?: () => void): void {
    if (this.closedReason !== null) {
      throw new ChannelClosedError(`replication channel closed: ${this.closedReason}`);
    }
    const { type, parts, length } = encodeMessageParts(m);
    const bytes = length + FRAME_OVERHEAD;
    this.outbound.push({ key: this.sendKey, type, seq: this.sendSeq++, parts, bytes, onWritten });
    this.queuedBytes += bytes;
    if (!this.writing) void this.writeLoop();
  }

  /** Resolves when every queued frame has been handed to the socket (or the channel closed). */
  drained(): Promise<void> {
    if (this.outbound.length === 0 && !this.writing || this.isClosed) return Promise.resolve();
    return new Promise((r) => this.drainWaiters.push(r));
  }

  private async writeAll(b: Uint8Array): Promise<void> {
    this.writeStartedAt = this.now();
    let done = 0;
    while (done < b.length) done += await this.stream.write(b.subarray(done));
    this.writeStartedAt = null;
  }

  private async writeLoop(): Promise<void> {
    this.writing = true;
    const batch = this.batch ??= new Uint8Array(WRITE_BATCH_BYTES);
    let used = 0;
    const flush = async () => {
      if (used === 0) return;
      const n = used;
      used = 0;
      await this.writeAll(batch.subarray(0, n));
    };
    try {
      // The exit test (nothing queued, nothing batched) must run with no await between it and `writing`
      // going false: a frame queued during any await is picked up by this loop, never stranded.
      while (this.closedReason === null) {
        if (this.outbound.length === 0) {
          if (used === 0) break;
          await flush();
          continue;
        }
        const f = this.outbound.shift()!;
        for (const piece of sealFrameParts(f.key, f.type, f.seq, f.parts, this.maxPayloadBytes)) {
          if (piece.length > batch.length) {
            await flush();
            await this.writeAll(piece);
          } else {
            if (used + piece.length > batch.length) await flush();
            batch.set(piece, used);
            used += piece.length;
          }
          if (this.closedReason !== null) return;
        }
        f.onWritten?.();
        // Small frames queued meanwhile join the batch; the batch goes out when nothing else is queued.
        this.queuedBytes -= f.bytes;
        if (f.bytes >= EAGER_FLUSH_BYTES) await flush();
      }
    } catch (e) {
      this.close(`write failed: ${(e as Error).message}`);
    } finally {
      this.writing = false;
      this.writeStartedAt = null;
      if (this.outbound.length === 0 || this.isClosed) {
        for (const w of this.drainWaiters.splice(0)) w();
      }
    }
  }

  /**
   * The next message; null when the peer closed cleanly between frames. Throws FrameError on any bad
   * input (after closing the channel) and ChannelClosedError once closed.
   */
  async receive(): Promise<Message | null> {
    for (;;) {
      if (this.closedReason !== null) {
        throw new ChannelClosedError(`replication channel closed: ${this.closedReason}`);
      }
      let frame: Frame | null;
      try {
        frame = this.decoder.next();
        if (frame !== null) return decodeMessage(frame.type, frame.payload);
      } catch (e) {
        if (e instanceof FrameError) this.close(e.message);
        throw e;
      }
      // The rest of a large payload is read straight into its buffer; anything else through readBuf.
      const direct = this.decoder.directTarget();
      let n: number | null;
      try {
        n = await this.stream.read(direct ?? this.readBuf);
      } catch (e) {
        if (this.closedReason !== null) {
          throw new ChannelClosedError(`replication channel closed: ${this.closedReason}`);
        }
        this.close(`read failed: ${(e as Error).message}`);
        throw new ChannelClosedError(`replication channel closed: read failed: ${(e as Error).message}`);
      }
      if (n === null) {
        try {
          this.decoder.finish();
        } catch (e) {
          this.close((e as Error).message);
          throw e;
        }
        this.close("closed by the peer");
        return null;
      }
      if (direct !== null) this.decoder.directReceived(n);
      else this.decoder.push(this.readBuf.subarray(0, n));
    }
  }

  /** True when at least one more complete frame is already buffered (lets a server coalesce acks). */
  hasBufferedFrame(): boolean {
    return this.decoder.buffered > 0;
  }

  /**
   * Tells the peer why (an error message, if the socket takes it within `graceMs`) and closes. Used by
   * the side that detects a protocol or apply failure, so the other side logs a reason, not a reset.
   */
  async abort(reason: string, graceMs = 1000): Promise<void> {
    if (this.closedReason !== null) return;
    try {
      this.send({ type: "error", reason });
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.drained(), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
    } catch { /* the peer learns from the close */ }
    this.close(reason);
  }

  /** Closes now, dropping what is not written yet. Idempotent. */
  close(reason: string): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    this.outbound.length = 0;
    try {
      this.stream.close();
    } catch { /* already closed */ }
    for (const w of this.drainWaiters.splice(0)) w();
    this.resolveClosed(reason);
  }
}
