// A mirror module's heartbeats (spec §4.4): one UDP link per <heartbeat>, on port 8888+(id−1) of the
// node's address on that lan, sending the module's state to the peer every `pulse` and reporting a link
// lost once nothing authentic arrived for `timeout`. Frames are sealed with the cluster key (packet_auth);
// the payload names the module, the link and the receiver, so a frame replayed to another module, link or
// node is refused even though its MAC is valid.
// Round trip without synchronised clocks: each beat echoes the sequence number of the last beat received on
// its link and how long ago that was; the sender of the echoed beat subtracts that age from the time since it
// sent it (the NTP way). The round trip is a metric only: loss is decided by `timeout` alone.
import { emptyReplayState, newBootEpoch, open, type ReplayState, seal } from "./packet_auth.ts";
import type { DatagramTransport } from "./transport.ts";
import { openUdpTransport } from "./udp_transport.ts";

export const HEARTBEAT_FRAME_KIND = 2;
const MAX_STATE_BYTES = 1100;

export type HeartbeatLink = {
  /** heartbeat.<ident> */
  readonly ident: string;
  readonly localAddr: string;
  readonly peerAddr: string;
  readonly port: number;
  readonly pulseMs: number;
  readonly timeoutMs: number;
};

export type ModuleHeartbeatsOptions = {
  readonly module: string;
  readonly local: string;
  readonly peer: string;
  readonly key: Uint8Array;
  readonly links: readonly HeartbeatLink[];
  onBeat(ident: string, state: unknown): void;
  onTimeout(ident: string): void;
  /** For tests: transports to use instead of binding UDP. */
  readonly transports?: ReadonlyMap<string, DatagramTransport>;
  readonly now?: () => number;
};

/** e: echo of the last beat received on the link: q its sequence number, a its age in ms when echoed */
type Wire = { m: string; i: string; to: string; s: unknown; e?: { q: number; a: number } };

const SENT_TIMES_KEPT = 256;

export class ModuleHeartbeats {
  #transports = new Map<string, DatagramTransport>();
  #timers: ReturnType<typeof setInterval>[] = [];
  #lastSeen = new Map<string, number>();
  #lost = new Set<string>();
  #replay: ReplayState = emptyReplayState();
  #seq = 0;
  #epoch: number;
  #state: unknown = null;
  #now: () => number;
  readonly counters = { sent: 0, received: 0, accepted: 0, dropped: {} as Record<string, number> };
  /** send time of our recent beats, by sequence number (bounded) */
  #sentAt = new Map<number, number>();
  /** last beat received from the peer, by link */
  #lastPeerBeat = new Map<string, { seq: number; at: number }>();
  #rtt = new Map<string, number>();

  private constructor(private readonly o: ModuleHeartbeatsOptions) {
    this.#now = o.now ?? (() => Date.now());
    this.#epoch = newBootEpoch(this.#now());
  }

  static async open(o: ModuleHeartbeatsOptions): Promise<ModuleHeartbeats> {
    const hb = new ModuleHeartbeats(o);
    try {
      for (const link of o.links) {
        const t = o.transports?.get(link.ident) ??
          await openUdpTransport({ addr: link.localAddr, port: link.port });
        hb.#transports.set(link.ident, t);
        t.onReceive((_from, bytes) => hb.#receive(link, bytes));
      }
    } catch (e) {
      await hb.close();
      throw e;
    }
    const start = hb.#now();
    for (const link of o.links) {
      hb.#lastSeen.set(link.ident, start);
      const id = setInterval(() => hb.#pulse(link), link.pulseMs);
      Deno.unrefTimer(id);
      hb.#timers.push(id);
    }
    const check = setInterval(
      () => hb.#checkTimeouts(),
      Math.max(20, Math.min(...o.links.map((l) => l.pulseMs)) / 2),
    );
    Deno.unrefTimer(check);
    hb.#timers.push(check);
    return hb;
  }

  /** What every following pulse carries. Sent at once, so a state change reaches the peer without delay. */
  setState(state: unknown): void {
    this.#state = state;
    for (const link of this.o.links) this.#pulse(link);
  }

  #pulse(link: HeartbeatLink): void {
    const t = this.#transports.get(link.ident);
    if (!t || this.#state === null) return;
    const now = this.#now();
    const heard = this.#lastPeerBeat.get(link.ident);
    const wire: Wire = { m: this.o.module, i: link.ident, to: this.o.peer, s: this.#state };
    if (heard) wire.e = { q: heard.seq, a: now - heard.at };
    const payload = new TextEncoder().encode(JSON.stringify(wire));
    if (payload.length > MAX_STATE_BYTES) return this.#drop("state_too_large");
    const frame = seal(this.o.key, {
      kind: HEARTBEAT_FRAME_KIND,
      sender: this.o.local,
      epoch: this.#epoch,
      seq: ++this.#seq,
      payload,
    });
    this.#sentAt.set(this.#seq, now);
    if (this.#sentAt.size > SENT_TIMES_KEPT) this.#sentAt.delete(this.#seq - SENT_TIMES_KEPT);
    t.send({ addr: link.peerAddr, port: link.port }, frame);
    this.counters.sent++;
  }

  #receive(link: HeartbeatLink, bytes: Uint8Array): void {
    this.counters.received++;
    const r = open(this.o.key, bytes, this.#replay, { allowedSenders: new Set([this.o.peer]) });
    if (!r.ok) return this.#drop(r.reason);
    if (r.packet.kind !== HEARTBEAT_FRAME_KIND) return this.#drop("wrong_kind");
    let wire: Wire;
    try {
      wire = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(r.packet.payload));
    } catch {
      return this.#drop("malformed_payload");
    }
    if (typeof wire !== "object" || wire === null) return this.#drop("malformed_payload");
    if (wire.m !== this.o.module) return this.#drop("wrong_module");
    if (wire.i !== link.ident) return this.#drop("wrong_link");
    if (wire.to !== this.o.local) return this.#drop("wrong_destination");
    this.#replay = r.replayState;
    this.counters.accepted++;
    const now = this.#now();
    this.#lastSeen.set(link.ident, now);
    this.#lost.delete(link.ident);
    this.#lastPeerBeat.set(link.ident, { seq: r.packet.seq, at: now });
    this.#noteEcho(link.ident, wire.e, now);
    // After a stall the socket holds a burst of old beats: hand over only the newest of each link.
    this.#latest.set(link.ident, wire.s);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setTimeout(() => this.#flush(), 0);
    }
  }

  /** Round trip of a link from the echo a beat carries; a malformed echo is ignored, not the beat. */
  #noteEcho(ident: string, e: unknown, now: number): void {
    if (typeof e !== "object" || e === null) return;
    const { q, a } = e as { q?: unknown; a?: unknown };
    if (typeof q !== "number" || typeof a !== "number" || !Number.isFinite(a) || a < 0) return;
    const sent = this.#sentAt.get(q);
    if (sent === undefined) return;
    const rtt = now - sent - a;
    if (rtt >= 0) this.#rtt.set(ident, rtt);
  }

  /** Last measured round trip of each link, in milliseconds (links never measured are absent). */
  roundTrips(): Record<string, number> {
    return Object.fromEntries(this.#rtt);
  }

  #latest = new Map<string, unknown>();
  #flushScheduled = false;

  #flush(): void {
    this.#flushScheduled = false;
    const beats = [...this.#latest];
    this.#latest.clear();
    if (this.#timers.length === 0) return; // closed meanwhile
    for (const [ident, state] of beats) this.o.onBeat(ident, state);
  }

  #lastCheck = 0;

  #checkTimeouts(): void {
    const now = this.#now();
    // If this process itself was stopped or starved (SIGSTOP, a stalled VM, swap), silence from the peer
    // proves nothing: restart every link's clock instead of declaring the peer lost. This avoids a false
    // takeover by a node that was the one away, and false failovers under heavy load.
    const stalled = this.#lastCheck > 0 &&
      now - this.#lastCheck > Math.min(...this.o.links.map((l) => l.timeoutMs)) / 2;
    this.#lastCheck = now;
    if (stalled) {
      for (const link of this.o.links) if (!this.#lost.has(link.ident)) this.#lastSeen.set(link.ident, now);
      return;
    }
    for (const link of this.o.links) {
      if (this.#lost.has(link.ident)) continue;
      if (now - (this.#lastSeen.get(link.ident) ?? now) >= link.timeoutMs) {
        this.#lost.add(link.ident);
        this.o.onTimeout(link.ident);
      }
    }
  }

  #drop(reason: string): void {
    this.counters.dropped[reason] = (this.counters.dropped[reason] ?? 0) + 1;
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    await Promise.all([...this.#transports.values()].map((t) => t.close().catch(() => {})));
    this.#transports.clear();
  }
}
