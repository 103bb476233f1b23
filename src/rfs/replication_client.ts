// The primary's side of replication: a ReplicationSink that sends every change of the replicated
// directories to the secondary and resolves when the secondary acknowledged it, and the server of the
// secondary's reintegration requests.
//
// Order: one TCP connection carries one ordered stream. An op is sealed into the stream (its sequence
// number fixed) synchronously inside apply(), so the stream order is the order in which the FUSE server
// changed the local tree; many ops are in flight at once (pipelining), bounded by `maxInFlightBytes`.
// `nbremconn` > 1 is accepted but not used for ops: several connections would need a reorder buffer on the
// secondary, and they would break what reintegration relies on — a reply read from the tree in one
// synchronous stretch and queued on the *same* stream as the ops, so its place in the stream is the
// moment it was read (docs/replication.md).
//
// Never stalling the application: every apply() resolves within `locktimeout` (ack) / `sendtimeout`
// (socket write), even if the secondary hangs. When one of them expires, the secondary is declared lost:
// the connection is closed, every pending apply() resolves, later ones resolve at once (ALONE: writes
// continue locally), `needsResync` is set, and `onSecondaryLost` is called once.

import { type ByteStream, ChannelClosedError, FrameChannel } from "./protocol/frame_channel.ts";
import { DEFAULT_MAX_PAYLOAD_BYTES, FrameError, PayloadPool } from "./protocol/frame_codec.ts";
import { encodeMessage, MAX_READ_BYTES, type Message } from "./protocol/messages.ts";
import { openClientSession } from "./protocol/session_open.ts";
import { type ReplicationFilter } from "./replication_filter.ts";
import { listEntries, readRange, statEntry } from "./tree_entry.ts";
import { type ReplicationSink, type TreeOp, validateTreePath } from "./tree_op.ts";

export type ReplicationClientOptions = {
  /** The secondary's address on the replication flow lan, and rfsPort(module id) = 5600 + (id-1)*4. */
  readonly host: string;
  readonly port: number;
  readonly clusterKey: Uint8Array;
  /** This node's and the module's names, checked by the secondary. */
  readonly node: string;
  readonly module: string;
  /** O_PATH handles of the replicated directories' backing trees (mount.root.fd), in <replicated> order. */
  readonly roots: readonly number[];
  /** Per directory, the <notreplicated> filter; ops on excluded paths are not sent. */
  readonly filters?: readonly (ReplicationFilter | undefined)[];
  readonly async: "second" | "none";
  readonly lockTimeoutMs: number;
  readonly sendTimeoutMs: number;
  /** Back-pressure: bytes of ops sent and not yet acknowledged (default 64 MiB). */
  readonly maxInFlightBytes?: number;
  /** Ping when nothing was received for this long (default min(5 s, locktimeout/4)). */
  readonly pingIntervalMs?: number;
  readonly onSecondaryLost?: (reason: string) => void;
  /** The secondary finished its reintegration: it is up to date and every later op reaches it. */
  readonly onSecondarySynced?: () => void;
  /** Opens the TCP stream (tests substitute one). */
  readonly dial?: (host: string, port: number) => Promise<ByteStream>;
  readonly now?: () => number;
};

export type ClientState = "idle" | "connecting" | "connected" | "lost" | "closed";

export type ClientStats = {
  opsSent: number;
  opsAcked: number;
  bytesSent: number;
  /** ops applied while no secondary was connected (they make a resync necessary) */
  opsWhileAlone: number;
  opsFiltered: number;
  reiRequests: number;
  reiBytes: number;
};

type Pending = {
  readonly opId: number;
  readonly bytes: number;
  readonly since: number;
  readonly resolve: () => void;
};
type Queued =
  | { readonly kind: "op"; readonly msg: Message; readonly pending: Pending }
  | { readonly kind: "reply"; readonly msg: Message; readonly onWritten?: () => void };

const EFBIG = 27;
/** Writes larger than this are sent as several ops (see applyTo). */
export const WRITE_PIECE_BYTES = 256 * 1024;

async function dialTcp(host: string, port: number): Promise<ByteStream> {
  const conn = await Deno.connect({ hostname: host, port, transport: "tcp" });
  conn.setNoDelay(true);
  return conn;
}

function opPaths(op: TreeOp): string[] {
  if (op.kind === "rename") return [op.from, op.to];
  if (op.kind === "link") return [op.path, op.newPath];
  return [op.path];
}

export class ReplicationClient implements ReplicationSink {
  state: ClientState = "idle";
  /** True until the secondary reports a completed reintegration; set again whenever it is lost. */
  needsResync = true;
  readonly stats: ClientStats = {
    opsSent: 0,
    opsAcked: 0,
    bytesSent: 0,
    opsWhileAlone: 0,
    opsFiltered: 0,
    reiRequests: 0,
    reiBytes: 0,
  };
  private channel: FrameChannel | null = null;
  private nextOpId = 0;
  private inFlightBytes = 0;
  private readonly pending: Pending[] = [];
  private readonly waiting: Queued[] = [];
  /** Buffers of reintegration read replies, reused once their frame is written. */
  private readonly readPool = new PayloadPool();
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private lastReceivedAt = 0;
  private pingSentAt: number | null = null;
  private readonly now: () => number;
  private readonly maxInFlight: number;

  constructor(private readonly opts: ReplicationClientOptions) {
    this.now = opts.now ?? Date.now;
    this.maxInFlight = opts.maxInFlightBytes ?? 64 << 20;
    if (opts.roots.length === 0) throw new RangeError("replication client: no replicated directory");
  }

  /** The sink of the `dir`-th <replicated> directory (the one given to its mountReplicatedDir). */
  sink(dir: number): ReplicationSink {
    if (!Number.isInteger(dir) || dir < 0 || dir >= this.opts.roots.length) {
      throw new RangeError(`replicated directory index ${dir} out of range`);
    }
    return { apply: (op) => this.applyTo(dir, op), diverged: (reason) => this.diverged(reason) };
  }

  apply(op: TreeOp): Promise<void> {
    return this.applyTo(0, op);
  }
  /**
   * An op sent to the secondary failed on this node: the copies may differ where it wrote. The secondary is
   * dropped (ALONE) and, like any lost secondary, recopies the recent zones at its next reintegration.
   */
  diverged(reason: string): void {
    this.lose(`the copies diverged: ${reason}`);
  }

  /**
   * Connects to the secondary and authenticates both ways. Throws (staying "idle"/"lost") if it cannot;
   * the caller retries while the peer is expected (its heartbeat shows SECOND).
   */
  async connect(timeoutMs = this.opts.sendTimeoutMs): Promise<void> {
    if (this.state === "connected" || this.state === "connecting") return;
    if (this.state === "closed") throw new Error("replication client is closed");
    const before = this.state;
    this.state = "connecting";
    let stream: ByteStream | undefined;
    try {
      const dial = this.opts.dial ?? dialTcp;
      let timer: ReturnType<typeof setTimeout> | undefined;
      stream = await Promise.race([
        dial(this.opts.host, this.opts.port),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(new Error(`cannot reach ${this.opts.host}:${this.opts.port} within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]).finally(() => clearTimeout(timer));
      const ch = await openClientSession(
        stream,
        this.opts.clusterKey,
        { node: this.opts.node, module: this.opts.module, dirCount: this.opts.roots.length },
        { async: this.opts.async, dropped: this.needsResync },
        timeoutMs,
      );
      if (this.state !== "connecting") { // closed meanwhile
        ch.close("replication client closed");
        return;
      }
      this.channel = ch;
      this.nextOpId = 0;
      this.inFlightBytes = 0;
      this.lastReceivedAt = this.now();
      this.pingSentAt = null;
      this.state = "connected";
      this.startWatchdog();
      void this.receiveLoop(ch);
    } catch (e) {
      if (this.state === "connecting") this.state = before === "lost" ? "lost" : "idle";
      throw e;
    }
  }

  /** Stops replicating (leaving PRIM/ALONE): pending apply() calls resolve. */
  close(): Promise<void> {
    if (this.state === "closed") return Promise.resolve();
    this.dropConnection("replication client closed");
    this.state = "closed";
    return Promise.resolve();
  }

  private applyTo(dir: number, op: TreeOp): Promise<void> {
    if (this.state !== "connected") {
      if (this.state !== "closed") {
        this.stats.opsWhileAlone++;
        this.needsResync = true;
      }
      return Promise.resolve();
    }
    const filter = this.opts.filters?.[dir];
    if (filter !== undefined && !this.isReplicated(filter, dir, op)) {
      this.stats.opsFiltered++;
      return Promise.resolve();
    }
    if (op.kind === "write" && op.data.length > WRITE_PIECE_BYTES) {
      // A large write goes as several write ops of consecutive ranges: the first piece travels and is
      // verified by the secondary while the next one is being sealed (both ends work at once).
      const pieces: Promise<void>[] = [];
      for (let at = 0; at < op.data.length; at += WRITE_PIECE_BYTES) {
        const data = op.data.subarray(at, at + WRITE_PIECE_BYTES);
        pieces.push(this.enqueueOp(dir, { kind: "write", path: op.path, offset: op.offset + at, data }));
      }
      return Promise.all(pieces).then(() => {});
    }
    const acked = this.enqueueOp(dir, op);
    // With async="second" the secondary acknowledges receipt, not its disk: an fsync op tells the primary
    // nothing more than the acks of the ops before it, which the caller already waited for. It is sent,
    // in order (the secondary fsyncs), and tracked for locktimeout, but nobody waits for its ack.
    if (op.kind === "fsync" && this.opts.async === "second") return Promise.resolve();
    return acked;
  }

  private enqueueOp(dir: number, op: TreeOp): Promise<void> {
    const opId = ++this.nextOpId;
    const bytes = 64 +
      (op.kind === "write" ? op.data.length : op.kind === "setxattr" ? op.value.length : 256);
    return new Promise<void>((resolve) => {
      const pending: Pending = { opId, bytes, since: this.now(), resolve };
      this.pending.push(pending);
      const msg: Message = { type: "op", opId, dir, op };
      if (this.waiting.length === 0 && this.fits(bytes)) this.sendOp(msg, pending);
      else this.waiting.push({ kind: "op", msg, pending }); // op.data stays valid: apply() has not settled
    });
  }

  private isReplicated(filter: ReplicationFilter, dir: number, op: TreeOp): boolean {
    const paths = opPaths(op);
    const isDir = (p: string) => {
      if (op.kind === "mkdir" || op.kind === "rmdir") return true;
      if (op.kind === "write" || op.kind === "create" || op.kind === "unlink") return false;
      const e = statEntry(this.opts.roots[dir], p);
      return typeof e !== "number" && e.type === "dir";
    };
    // A rename between a replicated and a not replicated name is not supported (spec §7.1): not sent.
    return paths.every((p) => filter.isReplicated(p, isDir(p)));
  }

  private fits(bytes: number): boolean {
    return this.inFlightBytes === 0 || this.inFlightBytes + bytes <= this.maxInFlight;
  }

  private sendOp(msg: Message, pending: Pending): void {
    this.inFlightBytes += pending.bytes;
    this.stats.opsSent++;
    this.stats.bytesSent += pending.bytes;
    this.trySend(msg);
  }

  /**
   * Sends on the current channel. A channel that closed under us (the peer reset it and the receive loop
   * has not noticed yet) means the secondary is lost: never an exception into apply(), which would give
   * the application EIO.
   */
  private trySend(msg: Message, onWritten?: () => void): void {
    try {
      this.channel!.send(msg, onWritten);
    } catch (e) {
      this.lose(`sending to the secondary failed: ${(e as Error).message}`);
    }
  }

  /** Sends what back-pressure held, in order; replies never overtake the ops queued before them. */
  private pump(): void {
    while (this.waiting.length > 0 && this.state === "connected") {
      const head = this.waiting[0];
      if (head.kind === "op" && !this.fits(head.pending.bytes)) return;
      this.waiting.shift();
      if (head.kind === "op") this.sendOp(head.msg, head.pending);
      else this.trySend(head.msg, head.onWritten);
    }
  }

  private async receiveLoop(ch: FrameChannel): Promise<void> {
    for (;;) {
      let m: Message | null;
      try {
        m = await ch.receive();
      } catch (e) {
        if (e instanceof FrameError || e instanceof ChannelClosedError) {
          if (this.channel === ch) this.lose(`replication stream from the secondary: ${e.message}`);
          return;
        }
        throw e;
      }
      if (this.channel !== ch) return;
      this.lastReceivedAt = this.now();
      if (m === null) return this.lose("the secondary closed the replication connection");
      try {
        if (!(await this.handle(ch, m))) return;
      } catch (e) {
        return this.lose(`replication client error: ${(e as Error).message}`);
      }
    }
  }

  /** Handles one message from the secondary; false once the connection is done. */
  private async handle(ch: FrameChannel, m: Message): Promise<boolean> {
    switch (m.type) {
      case "ack":
        this.onAck(m.opId);
        break;
      case "pong":
        this.pingSentAt = null;
        break;
      case "ping":
        this.trySend({ type: "pong", nonce: m.nonce });
        break;
      case "reiRequest":
        this.serveReintegration(m);
        break;
      case "synced":
        this.needsResync = false;
        this.opts.onSecondarySynced?.();
        break;
      case "error":
        this.lose(`the secondary closed replication: ${m.reason}`);
        return false;
      default:
        await ch.abort(`unexpected ${m.type} message from the secondary`);
        this.lose(`protocol error: unexpected ${m.type} message from the secondary`);
        return false;
    }
    return true;
  }

  private onAck(opId: number): void {
    while (this.pending.length > 0 && this.pending[0].opId <= opId) {
      const p = this.pending.shift()!;
      this.inFlightBytes -= p.bytes;
      this.stats.opsAcked++;
      p.resolve();
    }
    this.pump();
  }

  /**
   * Answers a reintegration request from the tree *now*, synchronously, and queues the reply behind every
   * op already queued: the reply shows the tree exactly as it is at its place in the stream.
   */
  private serveReintegration(m: Extract<Message, { type: "reiRequest" }>): void {
    this.stats.reiRequests++;
    const reply = (
      r: Omit<Extract<Message, { type: "reiReply" }>, "type" | "reqId">,
      onWritten?: () => void,
    ) => {
      const msg: Message = { type: "reiReply", reqId: m.reqId, ...r };
      if (this.waiting.length === 0) this.trySend(msg, onWritten);
      else this.waiting.push({ kind: "reply", msg, onWritten });
    };
    const root = this.opts.roots[m.dir];
    if (root === undefined) return reply({ errno: 22 });
    try {
      validateTreePath(m.path, true);
    } catch {
      return reply({ errno: 22 }); // EINVAL: never read outside the root
    }
    if (m.kind === "stat") {
      const e = statEntry(root, m.path);
      return reply(typeof e === "number" ? { errno: -e } : { errno: 0, entry: e });
    }
    if (m.kind === "list") {
      const l = listEntries(root, m.path);
      if (typeof l === "number") return reply({ errno: -l });
      // A listing too big for one frame (roughly 200,000 names): the secondary reports EFBIG and fails.
      const size =
        encodeMessage({ type: "reiReply", reqId: m.reqId, errno: 0, entries: l.entries }).payload.length;
      return reply(size > DEFAULT_MAX_PAYLOAD_BYTES ? { errno: EFBIG } : { errno: 0, entries: l.entries });
    }
    const pool = this.readPool;
    let taken: Uint8Array | null = null; // only a buffer from the pool goes back to it (not a zone map's)
    const r = readRange(
      root,
      m.path,
      m.offset,
      Math.min(m.length, MAX_READ_BYTES),
      (n) => taken = pool.take(n),
    );
    if (typeof r === "number") {
      if (taken !== null) pool.recycle(taken);
      return reply({ errno: -r });
    }
    this.stats.reiBytes += r.data.length;
    // The data goes to the socket from this buffer, which serves a later read once the frame is written.
    const buffer = taken;
    reply(
      { errno: 0, entry: r.entry, data: r.data },
      buffer === null ? undefined : () => pool.recycle(buffer),
    );
  }

  private startWatchdog(): void {
    const { lockTimeoutMs, sendTimeoutMs } = this.opts;
    const pingEvery = this.opts.pingIntervalMs ?? Math.min(5000, lockTimeoutMs / 4);
    const period = Math.max(10, Math.min(1000, Math.min(lockTimeoutMs, sendTimeoutMs, pingEvery) / 4));
    clearInterval(this.watchdog);
    this.watchdog = setInterval(() => {
      const ch = this.channel;
      if (ch === null || this.state !== "connected") return;
      const now = this.now();
      if (ch.writeStartedAt !== null && now - ch.writeStartedAt >= sendTimeoutMs) {
        return this.lose(`sendtimeout: a send to the secondary did not complete within ${sendTimeoutMs} ms`);
      }
      const oldest = this.pending[0];
      if (oldest !== undefined && now - oldest.since >= lockTimeoutMs) {
        return this.lose(`locktimeout: a replication request was not served within ${lockTimeoutMs} ms`);
      }
      if (this.pingSentAt !== null && now - this.pingSentAt >= lockTimeoutMs) {
        return this.lose(`locktimeout: the secondary did not answer a ping within ${lockTimeoutMs} ms`);
      }
      if (this.pingSentAt === null && now - this.lastReceivedAt >= pingEvery) {
        this.pingSentAt = now;
        this.trySend({ type: "ping", nonce: now });
      }
    }, period);
  }

  private lose(reason: string): void {
    if (this.state !== "connected") return;
    this.dropConnection(reason);
    this.state = "lost";
    this.needsResync = true;
    this.opts.onSecondaryLost?.(reason);
  }

  private dropConnection(reason: string): void {
    clearInterval(this.watchdog);
    this.watchdog = undefined;
    const ch = this.channel;
    this.channel = null;
    ch?.close(reason);
    // ALONE from now on: nothing waits for the secondary any more.
    for (const p of this.pending.splice(0)) p.resolve();
    this.waiting.length = 0;
    this.inFlightBytes = 0;
  }
}
