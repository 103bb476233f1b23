// One authenticated, ordered message stream over a TCP connection: messages are sealed with the sending
// key and the next sequence number at the moment `send` is called (so the stream order is the call
// order), written by a single writer loop, and received, verified and decoded one by one.

import { DEFAULT_MAX_PAYLOAD_BYTES, type Frame, FrameDecoder, FrameError, sealFrame } from "./frame_codec.ts";
import { decodeMessage, encodeMessage, type Message } from "./messages.ts";

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

export class FrameChannel {
  private sendSeq = 0;
  private readonly decoder: FrameDecoder;
  private readonly outbound: Uint8Array[] = [];
  private writing = false;
  private readonly readBuf = new Uint8Array(256 * 1024);
  private closedReason: string | null = null;
  private resolveClosed!: (reason: string) => void;
  /** Resolves with the reason once the channel is closed (by either side or an error). */
  readonly closed: Promise<string> = new Promise((r) => (this.resolveClosed = r));
  /** When the write in progress started; null when nothing is being written (for sendtimeout). */
  writeStartedAt: number | null = null;
  /** Bytes sealed but not yet handed to the socket. */
  queuedBytes = 0;
  private drainWaiters: (() => void)[] = [];

  constructor(
    private readonly stream: ByteStream,
    private sendKey: Uint8Array,
    recvKey: Uint8Array,
    private readonly now: () => number = Date.now,
    maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES,
  ) {
    this.decoder = new FrameDecoder(recvKey, 0, maxPayloadBytes);
  }

  get isClosed(): boolean {
    return this.closedReason !== null;
  }

  /** Switches to the session keys; takes effect for the next frame sent / received. */
  rekey(sendKey: Uint8Array, recvKey: Uint8Array): void {
    this.sendKey = sendKey;
    this.decoder.rekey(recvKey);
  }

  /** Seals and queues `m` now (its place in the stream is fixed by this call); never blocks. */
  send(m: Message): void {
    if (this.closedReason !== null) {
      throw new ChannelClosedError(`replication channel closed: ${this.closedReason}`);
    }
    const { type, payload } = encodeMessage(m);
    const frame = sealFrame(this.sendKey, { type, seq: this.sendSeq++, payload });
    this.outbound.push(frame);
    this.queuedBytes += frame.length;
    if (!this.writing) void this.writeLoop();
  }

  /** Resolves when every queued frame has been handed to the socket (or the channel closed). */
  drained(): Promise<void> {
    if (this.outbound.length === 0 && !this.writing || this.isClosed) return Promise.resolve();
    return new Promise((r) => this.drainWaiters.push(r));
  }

  private async writeLoop(): Promise<void> {
    this.writing = true;
    try {
      while (this.outbound.length > 0 && this.closedReason === null) {
        let batch = this.outbound.shift()!;
        if (batch.length < WRITE_BATCH_BYTES && this.outbound.length > 0) {
          const parts = [batch];
          let n = batch.length;
          while (this.outbound.length > 0 && n + this.outbound[0].length <= WRITE_BATCH_BYTES) {
            const f = this.outbound.shift()!;
            parts.push(f);
            n += f.length;
          }
          batch = new Uint8Array(n);
          let o = 0;
          for (const p of parts) {
            batch.set(p, o);
            o += p.length;
          }
        }
        this.writeStartedAt = this.now();
        let done = 0;
        while (done < batch.length) done += await this.stream.write(batch.subarray(done));
        this.writeStartedAt = null;
        this.queuedBytes -= batch.length;
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
      let n: number | null;
      try {
        n = await this.stream.read(this.readBuf);
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
      this.decoder.push(this.readBuf.subarray(0, n));
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
