// One FUSE mount: mount(2) with a /dev/fuse fd, INIT negotiation, the request loop, clean unmount.
//
// Concurrency model. /dev/fuse is opened O_NONBLOCK. One loop waits for readiness with poll(2) run off the
// JS thread (a `nonblocking` FFI call), then drains every queued request with synchronous read(2)s on the
// JS thread — synchronous so that errno (EAGAIN, ENODEV after unmount, ENOENT for an interrupted request)
// is observable. Each request gets its own pair of buffers from a pool and is dispatched without being
// awaited, so up to `maxInflight` requests are in progress at once: a handler awaiting something slow
// (a replication sink, an fsync) holds only its own slot. When every slot is busy the loop stops reading
// until one is released, which is the back-pressure the kernel sees.

import {
  decodeInHeader,
  decodeInitIn,
  encodeInitOut,
  encodeOutHeader,
  FuseProtocolError,
  type InHeader,
  type InitFeatures,
  InitFlag,
  type InitOut,
  negotiateInit,
  Op,
  OUT_HEADER_SIZE,
} from "./fuse_abi.ts";
import {
  EAGAIN,
  EINVAL,
  EIO,
  ENODEV,
  ENOENT,
  ENOSYS,
  errno,
  errnoName,
  F_GETFL,
  F_SETFL,
  MNT_DETACH,
  MS_NODEV,
  MS_NOSUID,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDWR,
  POLLIN,
  sys,
} from "./libc.ts";

/** What a handler returns: a body length (written at OUT_HEADER_SIZE of `out`), -errno, or NO_REPLY. */
export type HandlerResult = number | typeof NO_REPLY;
export const NO_REPLY = null;

export type FuseRequest = {
  readonly header: InHeader;
  /** The whole request, header included (exactly header.len bytes). Valid until the handler settles. */
  readonly buf: Uint8Array;
  /** Reply buffer; the body goes at OUT_HEADER_SIZE. Room: OUT_HEADER_SIZE + maxWrite bytes. */
  readonly out: Uint8Array;
};

export interface FuseHandler {
  handle(req: FuseRequest): HandlerResult | Promise<HandlerResult>;
  /** Called once after the connection ended and every request settled. */
  destroy?(): void;
  /**
   * Called with what INIT agreed, before any other request. `devFd` is the /dev/fuse descriptor, which the
   * passthrough ioctls (backing file registration) need.
   */
  negotiated?(init: InitOut, devFd: number): void;
}

export type FuseMountOptions = {
  /** Largest WRITE the kernel may send; 1 MiB needs /proc/sys/fs/fuse/max_pages_limit >= 256 (default). */
  readonly maxWrite?: number;
  /** Requests handled at once (also the kernel's max_background). */
  readonly maxInflight?: number;
  /** Shown as the source and subtype in /proc/mounts: `<fsName> on <mountpoint> type fuse.<fsName>`. */
  readonly fsName?: string;
  readonly onError?: (message: string) => void;
  /** Ask for the kernel's writeback cache (see InitFeatures.writebackCache). Default off. */
  readonly writebackCache?: boolean;
  /** Ask for FUSE passthrough of reads (see InitFeatures.passthrough). Default off. */
  readonly passthrough?: boolean;
  /** Debug hook: sees every answered request (result as returned by the handler: body length or -errno). */
  readonly onReply?: (header: InHeader, result: number) => void;
};

export type FuseSessionStats = {
  requests: number;
  inflight: number;
  maxInflight: number;
  negotiatedMaxWrite: number;
  kernelProtocol: string;
  writebackCache: boolean;
  passthrough: boolean;
  /** Requests read by hotRead (without the worker-thread poll). */
  hotReads: number;
};

const HOT_POLL_MS = 1;
const HOT_STREAK_MAX = 64;

type Slot = { buf: Uint8Array; out: Uint8Array };

export class FuseSession {
  readonly stats: FuseSessionStats = {
    requests: 0,
    inflight: 0,
    maxInflight: 0,
    negotiatedMaxWrite: 0,
    kernelProtocol: "",
    writebackCache: false,
    passthrough: false,
    hotReads: 0,
  };
  /** Settles when the kernel connection is gone (unmounted or aborted) and every handler has finished. */
  readonly closed: Promise<void>;
  private readonly free: Slot[] = [];
  private slotsMade = 0;
  private slotWaiter: (() => void) | null = null;
  private readonly pending = new Set<Promise<void>>();
  private readonly pollBuf = new Uint8Array(8);
  /** A second pollfd: the worker thread may be writing revents into pollBuf meanwhile. */
  private readonly hotPollBuf = new Uint8Array(8);
  private hotStreak = 0;
  private stopping = false;
  private initDone!: () => void;
  /** Settles once the kernel's INIT has been answered: the mount is usable from then on. */
  readonly ready: Promise<void> = new Promise((r) => (this.initDone = r));

  private constructor(
    readonly mountpoint: string,
    private readonly fd: number,
    private readonly handler: FuseHandler,
    private readonly maxWrite: number,
    private readonly maxInflight: number,
    private readonly onError: (message: string) => void,
    private readonly onReply: ((header: InHeader, result: number) => void) | undefined,
    private readonly features: InitFeatures,
  ) {
    for (const b of [this.pollBuf, this.hotPollBuf]) {
      new DataView(b.buffer).setInt32(0, fd, true);
      new DataView(b.buffer).setInt16(4, POLLIN, true);
    }
    this.closed = this.loop();
  }

  /**
   * Mounts `handler` on `mountpoint` (needs root). The returned session is serving; await `ready` before
   * using the mount from this process through asynchronous APIs or subprocesses — never with synchronous
   * file calls, which would block the very thread that must answer them.
   */
  static mount(mountpoint: string, handler: FuseHandler, options: FuseMountOptions = {}): FuseSession {
    const maxWrite = options.maxWrite ?? 1 << 20;
    const maxInflight = options.maxInflight ?? 32;
    const fsName = options.fsName ?? "safekit";
    if (maxWrite < 4096 || maxWrite % 4096 !== 0 || maxWrite > 16 << 20) {
      throw new RangeError(`FUSE maxWrite ${maxWrite}: must be a multiple of 4096 between 4 KiB and 16 MiB`);
    }
    const fd = sys.open(new TextEncoder().encode("/dev/fuse\0"), O_RDWR | O_CLOEXEC | O_NONBLOCK, 0);
    if (fd < 0) {
      throw new Error(
        `cannot open /dev/fuse: ${errnoName[errno()] ?? errno()} (needs root and the fuse module)`,
      );
    }
    const opts = `fd=${fd},rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions`;
    const c = (s: string) => new TextEncoder().encode(s + "\0");
    if (
      sys.mount(c(fsName), c(mountpoint), c(`fuse.${fsName}`), BigInt(MS_NOSUID | MS_NODEV), c(opts)) !== 0
    ) {
      const e = errno();
      sys.close(fd);
      throw new Error(
        `cannot mount FUSE on ${mountpoint}: mount(2) failed with ${errnoName[e] ?? "errno " + e}`,
      );
    }
    // fcntl keeps O_NONBLOCK set even if the open flag was dropped by an older kernel.
    sys.fcntl(fd, F_SETFL, BigInt(sys.fcntl(fd, F_GETFL, 0n) | O_NONBLOCK));
    return new FuseSession(
      mountpoint,
      fd,
      handler,
      maxWrite,
      maxInflight,
      options.onError ?? console.error,
      options.onReply,
      { writebackCache: options.writebackCache, passthrough: options.passthrough },
    );
  }

  /** Lazily unmounts (MNT_DETACH: works even while files are open) and waits for the session to end. */
  async unmount(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      const r = sys.umount2(new TextEncoder().encode(this.mountpoint + "\0"), MNT_DETACH);
      if (r !== 0 && errno() !== EINVAL) {
        this.onError(`umount2 ${this.mountpoint}: ${errnoName[errno()] ?? errno()}`);
      }
    }
    await this.closed;
  }

  private acquire(): Slot | null {
    const s = this.free.pop();
    if (s) return s;
    if (this.slotsMade >= this.maxInflight) return null;
    this.slotsMade++;
    // Large enough for a maximal WRITE plus its headers, and for a maximal READ reply.
    return {
      buf: new Uint8Array(this.maxWrite + 8192),
      out: new Uint8Array(OUT_HEADER_SIZE + this.maxWrite),
    };
  }

  private release(s: Slot): void {
    this.free.push(s);
    const w = this.slotWaiter;
    this.slotWaiter = null;
    w?.();
  }

  /**
   * Right after the last in-flight request was answered, the application usually sends its next one within
   * microseconds (a write after a write, a create after a lookup). Waiting for it with poll(2) on a worker
   * thread (the loop below) costs two thread wake-ups per request; here the JS thread polls for up to
   * HOT_POLL_MS itself and dispatches what came. Only when nothing is in flight — no reply waits for the
   * event loop then — and at most HOT_STREAK_MAX times in a row, so timers and sockets still get turns.
   */
  private hotRead(): void {
    if (this.stopping || this.stats.inflight !== 0 || this.hotStreak >= HOT_STREAK_MAX) {
      this.hotStreak = 0;
      return;
    }
    if (sys.poll(this.hotPollBuf, 1n, HOT_POLL_MS) <= 0) return;
    const slot = this.acquire();
    if (!slot) return;
    const n = Number(sys.read(this.fd, slot.buf, BigInt(slot.buf.length)));
    if (n < 0) {
      this.free.push(slot); // EAGAIN: the loop took it; ENODEV: the loop sees it too
      return;
    }
    this.hotStreak++;
    this.stats.hotReads++;
    this.dispatch(slot, n);
  }

  private async loop(): Promise<void> {
    for (;;) {
      const slot = this.acquire();
      if (!slot) {
        await new Promise<void>((r) => (this.slotWaiter = r));
        continue;
      }
      const n = Number(sys.read(this.fd, slot.buf, BigInt(slot.buf.length)));
      if (n < 0) {
        const e = errno();
        this.free.push(slot);
        if (e === EAGAIN) {
          // Wake up at least every second so that an abandoned session still notices its end.
          await sys.pollAsync(this.pollBuf, 1n, 1000);
          continue;
        }
        if (e === ENOENT || e === 4 /* EINTR */) continue; // the request was interrupted before we read it
        if (e !== ENODEV) this.onError(`read /dev/fuse: ${errnoName[e] ?? "errno " + e}; ending the session`);
        break; // ENODEV: unmounted or aborted
      }
      this.hotStreak = 0;
      this.dispatch(slot, n);
    }
    this.initDone(); // a session that ends before INIT must not leave `ready` waiting forever
    await Promise.allSettled([...this.pending]);
    sys.close(this.fd);
    this.handler.destroy?.();
  }

  private dispatch(slot: Slot, n: number): void {
    this.stats.requests++;
    let header: InHeader;
    try {
      header = decodeInHeader(slot.buf, n);
    } catch (e) {
      this.onError((e as Error).message);
      this.free.push(slot);
      return;
    }
    if (header.opcode === Op.INIT) {
      this.answerInit(slot, header);
      this.free.push(slot);
      return;
    }
    if (header.opcode === Op.INTERRUPT) {
      // Handlers always finish and reply; the kernel accepts a late reply to an interrupted request.
      this.free.push(slot);
      return;
    }
    const req: FuseRequest = { header, buf: slot.buf.subarray(0, n), out: slot.out };
    this.stats.inflight++;
    this.stats.maxInflight = Math.max(this.stats.maxInflight, this.stats.inflight);
    const done = this.run(req).finally(() => {
      this.stats.inflight--;
      this.pending.delete(done);
      this.release(slot);
      this.hotRead();
    });
    this.pending.add(done);
  }

  private async run(req: FuseRequest): Promise<void> {
    let result: HandlerResult;
    try {
      result = await this.handler.handle(req);
    } catch (e) {
      if (!(e instanceof FuseProtocolError)) {
        this.onError(`FUSE handler failed on opcode ${req.header.opcode}: ${(e as Error).stack ?? e}`);
      } else this.onError(e.message);
      result = -EIO;
    }
    if (result === NO_REPLY) return;
    this.onReply?.(req.header, result);
    this.reply(req.out, req.header.unique, result < 0 ? -result : 0, result < 0 ? 0 : result);
  }

  private reply(out: Uint8Array, unique: bigint, error: number, bodyLen: number): void {
    const len = encodeOutHeader(out, unique, error, bodyLen);
    const r = Number(sys.write(this.fd, out, BigInt(len)));
    // ENOENT: the request was interrupted and the kernel no longer waits for it; nothing to do.
    if (r < 0 && errno() !== ENOENT && errno() !== ENODEV) {
      this.onError(`reply to FUSE request ${unique}: write failed with ${errnoName[errno()] ?? errno()}`);
    }
  }

  private answerInit(slot: Slot, header: InHeader): void {
    const kernel = decodeInitIn(slot.buf.subarray(0, header.len));
    this.stats.kernelProtocol = `${kernel.major}.${kernel.minor}`;
    if (kernel.major !== 7) {
      // Answering with our major makes the kernel retry INIT in our version, or give up.
      this.onError(`FUSE kernel protocol ${kernel.major}.${kernel.minor} is not 7.x`);
      this.reply(slot.out, header.unique, ENOSYS, 0);
      return;
    }
    const init = negotiateInit(kernel, this.maxWrite, Math.min(this.maxInflight, 0xffff), this.features);
    this.stats.negotiatedMaxWrite = init.maxWrite;
    this.stats.writebackCache = (init.flags & InitFlag.WRITEBACK_CACHE) !== 0;
    this.stats.passthrough = init.flags2 !== 0;
    this.handler.negotiated?.(init, this.fd);
    const len = encodeInitOut(slot.out, init);
    this.reply(slot.out, header.unique, 0, len);
    this.initDone();
  }
}
