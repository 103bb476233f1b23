// The secondary's side of replication: listens on the module's replication port, accepts only peers that
// prove the cluster key, and applies the primary's ops in stream order to the replicated directories.
//
// A session goes through three modes:
//   unsynced       ops are acknowledged and dropped: the tree is not known to equal the primary's, so
//                  applying them would build on a wrong base. Every new session starts here.
//   reintegrating  a Reintegration (reintegration.ts) decides op by op what to apply while it copies.
//   synced         every op is applied as it comes; a failure to apply one is a desync: the session is
//                  closed (the primary goes ALONE) and `onDesync` tells the mirror runtime.
// Acks follow <rfs async>: "second" acks an op when it is received (the apply comes after, in order);
// "none" acks it once applied, and an fsync op once fsync'ed (applyTreeOp runs fsync for it).

import { applyTreeOp } from "./apply_tree_op.ts";
import { openTreeRoot, type TreeRoot } from "./beneath_root.ts";
import { OpenWriteFiles } from "./open_write_files.ts";
import { clearStaleReadOnlyGuard, guardReadOnly, releaseReadOnly } from "./read_only_guard.ts";
import { ChannelClosedError, type FrameChannel } from "./protocol/frame_channel.ts";
import { FrameError } from "./protocol/frame_codec.ts";
import type { Message, ReiRequestKind } from "./protocol/messages.ts";
import { acceptServerSession, type HelloInfo, type ReadyInfo } from "./protocol/session_open.ts";
import type { TreeOp } from "./tree_op.ts";

/**
 * Writes at least this large are applied off the JS thread (the thread hop costs tens of µs: below this
 * size the copy itself is cheaper than that).
 */
const ASYNC_WRITE_BYTES = 64 * 1024;

export type ReplicationServerOptions = {
  /** This node's address on the replication flow lan, and rfsPort(module id). */
  readonly hostname: string;
  readonly port: number;
  readonly clusterKey: Uint8Array;
  readonly module: string;
  /** The replicated directories on this node, in <replicated> order (they must exist). */
  readonly dirs: readonly string[];
  /**
   * Per directory, <replicated mode="read_only">: while the server runs, the directory is read-only for
   * local users (a read-only bind mount over it, read_only_guard.ts); the server writes beneath it.
   */
  readonly readOnlyDirs?: readonly boolean[];
  /** Node names allowed to replicate to us (the peer of cluster.xml); unset = any key holder. */
  readonly allowedNodes?: ReadonlySet<string>;
  readonly handshakeTimeoutMs?: number;
  /** Unacknowledged work the session buffers before it stops reading the socket (default 64 MiB). */
  readonly maxQueuedBytes?: number;
  /** How an op is applied (default applyTreeOp); tests slow it down. */
  readonly applyOp?: (root: TreeRoot, op: TreeOp) => Promise<void>;
  readonly onSession?: (session: ReplicationSession) => void;
  /** The tree stopped being equal to the primary's while synced (a resync is needed). */
  readonly onDesync?: (reason: string) => void;
  readonly log?: (level: "I" | "E", message: string) => void;
};

/** What reintegration plugs into a session to decide what to do with live ops. */
export type OpInterceptor = { onOp(dir: number, op: TreeOp): Promise<void> | void };

export type ReiRequest = {
  readonly kind: ReiRequestKind;
  readonly dir: number;
  readonly path: string;
  readonly offset?: number;
  readonly length?: number;
};
export type ReiReply = Extract<Message, { type: "reiReply" }>;

type Work =
  | {
    readonly kind: "op";
    readonly opId: number;
    readonly dir: number;
    readonly op: TreeOp;
    readonly bytes: number;
  }
  | { readonly kind: "reply"; readonly reply: ReiReply; readonly bytes: number };

type Outstanding = {
  readonly handler: (r: ReiReply) => unknown;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
};

export class ReplicationSession {
  mode: "unsynced" | "reintegrating" | "synced" = "unsynced";
  readonly stats = { opsReceived: 0, opsApplied: 0, opsDropped: 0 };
  private interceptor: OpInterceptor | null = null;
  private readonly queue: Work[] = [];
  private queuedBytes = 0;
  private working = false;
  private wakeReader: (() => void) | null = null;
  private lastAcked = 0;
  private lastReceivedOp = 0;
  private lastProcessedOp = 0;
  private nextReqId = 1;
  private readonly outstanding = new Map<number, Outstanding>();
  /** Descriptors kept open across consecutive writes (open_write_files.ts). */
  private readonly openFiles = new OpenWriteFiles();
  readonly closed: Promise<string>;

  constructor(
    readonly channel: FrameChannel,
    readonly hello: HelloInfo,
    readonly ready: ReadyInfo,
    readonly roots: readonly TreeRoot[],
    private readonly opts: ReplicationServerOptions,
  ) {
    this.closed = channel.closed;
    void channel.closed.then((reason) => {
      this.openFiles.clear();
      for (const [id, o] of this.outstanding) {
        clearTimeout(o.timer);
        o.reject(new Error(`replication connection closed: ${reason}`));
        this.outstanding.delete(id);
      }
    });
  }

  get isOpen(): boolean {
    return !this.channel.isClosed;
  }

  /** Reintegration takes over live ops (null gives them back to the session's mode). */
  setInterceptor(i: OpInterceptor | null): void {
    this.interceptor = i;
    this.mode = i === null ? this.mode : "reintegrating";
  }

  /**
   * Sends a reintegration request to the primary. `handler` runs on the reply *in stream order*, before any
   * op that follows it is processed; the promise resolves with what it returns.
   */
  request<T>(req: ReiRequest, handler: (reply: ReiReply) => T | Promise<T>, timeoutMs: number): Promise<T> {
    const reqId = this.nextReqId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.outstanding.delete(reqId);
        reject(
          new Error(
            `reitimeout: the primary did not answer a ${req.kind} of "${req.path}" within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.outstanding.set(reqId, { handler, resolve: resolve as (v: unknown) => void, reject, timer });
      try {
        this.channel.send({
          type: "reiRequest",
          reqId,
          kind: req.kind,
          dir: req.dir,
          path: req.path,
          offset: req.offset ?? 0,
          length: req.length ?? 0,
        });
      } catch (e) {
        clearTimeout(timer);
        this.outstanding.delete(reqId);
        reject(e as Error);
      }
    });
  }

  /** Reintegration is complete: live ops are applied from now on, and the primary is told. */
  markSynced(): void {
    this.openFiles.clear();
    this.interceptor = null;
    this.mode = "synced";
    if (this.isOpen) this.channel.send({ type: "synced" });
  }

  /** Reintegration failed or stopped: ops are dropped until the next one. */
  markUnsynced(): void {
    this.openFiles.clear();
    this.interceptor = null;
    this.mode = "unsynced";
  }

  close(reason: string): Promise<void> {
    return this.channel.abort(reason);
  }

  async run(): Promise<void> {
    const ch = this.channel;
    for (;;) {
      let m: Message | null;
      try {
        m = await ch.receive();
      } catch (e) {
        if (e instanceof FrameError) {
          this.opts.log?.("E", `replication stream from ${this.hello.node}: ${e.message}`);
        } else if (!(e instanceof ChannelClosedError)) throw e;
        return;
      }
      if (m === null) return;
      switch (m.type) {
        case "op": {
          this.stats.opsReceived++;
          if (m.dir >= this.roots.length) {
            await ch.abort(`op for replicated directory #${m.dir}: this module has ${this.roots.length}`);
            return;
          }
          this.lastReceivedOp = m.opId;
          // async="second": the ack goes before the op is queued, whose processing may start at once.
          if (this.ready.async === "second" && !ch.hasBufferedFrame()) this.ack(m.opId);
          const bytes = 64 + (m.op.kind === "write" ? m.op.data.length : 0);
          this.enqueue({ kind: "op", opId: m.opId, dir: m.dir, op: m.op, bytes });
          break;
        }
        case "reiReply":
          this.enqueue({ kind: "reply", reply: m, bytes: 64 + (m.data?.length ?? 0) });
          break;
        case "ping":
          ch.send({ type: "pong", nonce: m.nonce });
          break;
        case "pong":
          break;
        case "error":
          this.opts.log?.("E", `the primary ${this.hello.node} closed replication: ${m.reason}`);
          ch.close(`closed by the primary: ${m.reason}`);
          return;
        default:
          await ch.abort(`unexpected ${m.type} message from the primary`);
          return;
      }
      // async="second": acknowledged on receipt; one ack covers every op read in the same batch (checked
      // after every message: an op followed by a reintegration reply in the batch must be acked too).
      if (this.ready.async === "second" && !ch.hasBufferedFrame()) this.ack(this.lastReceivedOp);
      const max = this.opts.maxQueuedBytes ?? 64 << 20;
      while (this.queuedBytes > max && this.isOpen) await new Promise<void>((r) => (this.wakeReader = r));
    }
  }

  private ack(opId: number): void {
    if (opId > this.lastAcked && this.isOpen) {
      this.lastAcked = opId;
      this.channel.send({ type: "ack", opId });
    }
  }

  private enqueue(w: Work): void {
    this.queue.push(w);
    this.queuedBytes += w.bytes;
    if (!this.working) void this.work();
  }

  /** Processes ops and replies one at a time, in the order they came. */
  private async work(): Promise<void> {
    this.working = true;
    try {
      while (this.queue.length > 0 && this.isOpen) {
        const w = this.queue.shift()!;
        if (w.kind === "reply") await this.handleReply(w.reply);
        else {
          const ok = await this.handleOp(w.dir, w.op);
          if (!ok) return;
          this.lastProcessedOp = w.opId;
        }
        // async="none": one ack for every op processed so far, when the queue runs dry (or every 32 ops,
        // so a busy stream still gets acks).
        if (
          this.ready.async === "none" &&
          (this.queue.length === 0 || this.lastProcessedOp - this.lastAcked >= 32)
        ) {
          this.ack(this.lastProcessedOp);
        }
        this.queuedBytes -= w.bytes;
        if (this.wakeReader !== null) {
          const wake = this.wakeReader;
          this.wakeReader = null;
          wake();
        }
      }
    } finally {
      this.working = false;
    }
  }

  private async handleOp(dir: number, op: TreeOp): Promise<boolean> {
    if (this.mode === "unsynced") {
      this.stats.opsDropped++;
      this.recycle(op);
      return true;
    }
    if (this.mode === "reintegrating" && this.interceptor !== null) {
      this.openFiles.clear();
      await this.interceptor.onOp(dir, op);
      return true;
    }
    try {
      if (op.kind === "write" && this.opts.applyOp === undefined) {
        // A large write is copied into the file on a worker thread: meanwhile this thread receives, verifies
        // and acknowledges the next frames. The queue waits for it, so ops still apply in stream order.
        if (op.data.length >= ASYNC_WRITE_BYTES) await this.openFiles.writeAsync(this.roots[dir].fd, dir, op);
        else this.openFiles.write(this.roots[dir].fd, dir, op);
      } else {
        this.openFiles.clear();
        await (this.opts.applyOp ?? ((root, o) => applyTreeOp(root, o)))(this.roots[dir], op);
      }
      this.stats.opsApplied++;
      this.recycle(op);
      return true;
    } catch (e) {
      const reason = `the secondary could not apply an op: ${(e as Error).message}`;
      this.mode = "unsynced";
      this.opts.log?.("E", reason);
      this.opts.onDesync?.(reason);
      await this.channel.abort(reason);
      return false;
    }
  }

  /**
   * A reintegration handler that has written a read reply's data (synchronously, and keeps no view of it)
   * gives it back here: its buffer then receives a later frame (see PayloadPool).
   */
  recycleReplyData(data: Uint8Array): void {
    this.channel.pool.recycle(data);
  }

  /** A write's data buffer is reused for a later frame once the op is done with (see PayloadPool). */
  private recycle(op: TreeOp): void {
    // A substitute applier (tests) may keep the op: only the default one is known to let go of it.
    if (op.kind === "write" && this.opts.applyOp === undefined) this.channel.pool.recycle(op.data);
  }

  /**
   * A handler may return a promise (a large copy written off the JS thread): the queue waits for it, so the
   * ops behind the reply still see the tree as the reply left it.
   */
  private async handleReply(reply: ReiReply): Promise<void> {
    const o = this.outstanding.get(reply.reqId);
    if (o === undefined) return; // timed out already
    this.outstanding.delete(reply.reqId);
    clearTimeout(o.timer);
    try {
      const v = o.handler(reply);
      o.resolve(v instanceof Promise ? await v : v);
    } catch (e) {
      o.reject(e as Error);
    }
  }
}

export class ReplicationServer {
  private listener: Deno.TcpListener | null = null;
  private roots: TreeRoot[] = [];
  private current: ReplicationSession | null = null;
  private sessionWaiters: ((s: ReplicationSession) => void)[] = [];
  private readonly conns = new Set<Deno.TcpConn>();
  private readonly guarded: string[] = [];

  constructor(private readonly opts: ReplicationServerOptions) {}

  get session(): ReplicationSession | null {
    return this.current !== null && this.current.isOpen ? this.current : null;
  }

  get port(): number {
    return (this.listener?.addr as Deno.NetAddr | undefined)?.port ?? this.opts.port;
  }

  start(): void {
    // A guard left by a crash would make the handles below open the read-only view.
    for (const d of this.opts.dirs) clearStaleReadOnlyGuard(d);
    this.roots = this.opts.dirs.map((d) => openTreeRoot(d));
    try {
      this.listener = Deno.listen({ hostname: this.opts.hostname, port: this.opts.port, transport: "tcp" });
    } catch (e) {
      for (const r of this.roots) r.close();
      throw new Error(
        `cannot listen for replication on ${this.opts.hostname}:${this.opts.port}: ${(e as Error).message}`,
      );
    }
    void this.acceptLoop(this.listener);
    // Only now: the handles above were opened on the read-write mount, which the guard then hides.
    this.opts.dirs.forEach((d, i) => {
      if (this.opts.readOnlyDirs?.[i]) {
        guardReadOnly(d);
        this.guarded.push(d);
      }
    });
  }

  /** The next (or current) authenticated session; rejects after `timeoutMs` (reitimeout). */
  waitForSession(timeoutMs: number): Promise<ReplicationSession> {
    const s = this.session;
    if (s !== null) return Promise.resolve(s);
    return new Promise((resolve, reject) => {
      const waiter = (s: ReplicationSession) => {
        clearTimeout(timer);
        resolve(s);
      };
      const timer = setTimeout(() => {
        this.sessionWaiters = this.sessionWaiters.filter((w) => w !== waiter);
        reject(new Error(`no replication connection from the primary within ${timeoutMs} ms`));
      }, timeoutMs);
      this.sessionWaiters.push(waiter);
    });
  }

  async close(): Promise<void> {
    try {
      this.listener?.close();
    } catch { /* closed */ }
    this.listener = null;
    if (this.current !== null) await this.current.close("the secondary stops replicating");
    for (const c of this.conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    for (const d of this.guarded.splice(0)) {
      try {
        releaseReadOnly(d);
      } catch (e) {
        this.opts.log?.("E", (e as Error).message);
      }
    }
    for (const r of this.roots) r.close();
    this.roots = [];
  }

  private async acceptLoop(listener: Deno.TcpListener): Promise<void> {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch {
        return; // listener closed
      }
      void this.serve(conn);
    }
  }

  private admit(hello: HelloInfo): string | null {
    if (this.opts.allowedNodes !== undefined && !this.opts.allowedNodes.has(hello.node)) {
      return `node "${hello.node}" is not this module's peer`;
    }
    if (hello.module !== this.opts.module) {
      return `module "${hello.module}" is not replicated here (this port serves "${this.opts.module}")`;
    }
    if (hello.dirCount !== this.roots.length) {
      return `the primary replicates ${hello.dirCount} directories, this node has ${this.roots.length} (configurations differ)`;
    }
    return null;
  }

  private async serve(conn: Deno.TcpConn): Promise<void> {
    this.conns.add(conn);
    conn.setNoDelay(true);
    try {
      const { channel, hello, ready } = await acceptServerSession(
        conn,
        this.opts.clusterKey,
        (h) => this.admit(h),
        this.opts.handshakeTimeoutMs ?? 10_000,
      );
      const previous = this.current;
      const session = new ReplicationSession(channel, hello, ready, this.roots, this.opts);
      this.current = session;
      // A primary that reconnects replaces its previous connection (which may linger half-open).
      if (previous !== null && previous.isOpen) {
        await previous.close("replaced by a new connection from the primary");
      }
      this.opts.log?.("I", `replication connection from ${hello.node} (async=${ready.async})`);
      this.opts.onSession?.(session);
      for (const w of this.sessionWaiters.splice(0)) w(session);
      await session.run();
      if (session.mode === "synced") {
        session.markUnsynced();
        this.opts.onDesync?.(`replication connection from ${hello.node} lost: ${await session.closed}`);
      }
    } catch (e) {
      this.opts.log?.("E", (e as Error).message);
    } finally {
      this.conns.delete(conn);
    }
  }
}
