// The shell around the membership automaton (core/membership.ts): authenticates and decodes pulses from the
// lans' transports, feeds them in, sends the pulses it asks for, and tells listeners what changed.
// It is the only membership code that reads the clock.
//
// Each lan has its own transport, bound to the local node's address on that lan (laddr on NAT). Senders are
// identified by the authenticated name in the frame, not by source address, so NAT'ed peers work; the
// receiving transport says which lan a pulse came through, and the payload must name that lan and us.
import {
  initialState,
  lanStatus,
  type MembershipEffect,
  type MembershipSettings,
  type MembershipState,
  step,
} from "../core/membership.ts";
import { decodeMembershipPayload, encodeMembershipPayload } from "./membership_wire.ts";
import { emptyReplayState, newBootEpoch, open, type ReplayState, seal } from "./packet_auth.ts";
import type { DatagramTransport, Endpoint } from "./transport.ts";
import { openUdpTransport } from "./udp_transport.ts";

/** Frame kind of membership pulses (packet_auth's `kind`). */
export const MEMBERSHIP_FRAME_KIND = 1;

/** The parts of cluster.xml membership needs; config/cluster_types.ts ClusterConfig fits this shape. */
export type MembershipNode = {
  readonly name: string;
  readonly addr: string;
  readonly laddr?: string;
  /** Overrides the cluster port for this node (tests running several nodes on one address). */
  readonly port?: number;
};
export type MembershipCluster = {
  readonly port: number;
  readonly pulseMs: number;
  readonly mlostCount: number;
  readonly slostCount: number;
  readonly lans: readonly { readonly name: string; readonly nodes: readonly MembershipNode[] }[];
};

export type MembershipClock = {
  now(): number;
  /** Calls `fn` every `ms` until the returned function is called. */
  every(ms: number, fn: () => void): () => void;
};

export const systemClock: MembershipClock = {
  now: () => Date.now(),
  every(ms, fn) {
    const id = setInterval(fn, ms);
    Deno.unrefTimer(id); // the heartbeat alone must not keep the process alive
    return () => clearInterval(id);
  },
};

export type MembershipChange = Exclude<MembershipEffect, { kind: "send" } | { kind: "ignored" }>;

/** Why an incoming datagram was not used: packet_auth and wire reasons, plus the binding checks below. */
export type DropReason = string;

export type MembershipCounters = {
  readonly received: number;
  readonly accepted: number;
  readonly sent: number;
  readonly dropped: Readonly<Record<DropReason, number>>;
  readonly listenerErrors: number;
};

export type MembershipServiceOptions = {
  readonly local: string;
  readonly key: Uint8Array;
  readonly cluster: MembershipCluster;
  /** One transport per lan the local node is on, keyed by lan name; the service owns and closes them. */
  readonly transports: ReadonlyMap<string, DatagramTransport>;
  readonly clock?: MembershipClock;
  /**
   * Frame kind of the pulses: 1 for cluster membership (the default), another value for a farm module's
   * own membership, so a captured cluster pulse replayed to a farm port is refused (`wrong_kind`).
   */
  readonly frameKind?: number;
  /** Boot epoch of this process; by default derived from the clock at construction. */
  readonly epoch?: number;
};

export class MembershipService {
  readonly local: string;
  readonly epoch: number;
  #key: Uint8Array;
  #cluster: MembershipCluster;
  #transports: ReadonlyMap<string, DatagramTransport>;
  #clock: MembershipClock;
  #state: MembershipState;
  #replay: ReplayState = emptyReplayState();
  readonly #frameKind: number;
  #allowed: ReadonlySet<string>;
  #seq = 0;
  #stopTimer: () => void = () => {};
  #listeners = new Set<(change: MembershipChange) => void>();
  #counters = { received: 0, accepted: 0, sent: 0, dropped: {} as Record<string, number>, listenerErrors: 0 };
  #closed = false;

  /** Binds a UDP transport on the local node's address of every lan it is on, then starts. */
  static async openOverUdp(
    options: Omit<MembershipServiceOptions, "transports">,
  ): Promise<MembershipService> {
    const transports = new Map<string, DatagramTransport>();
    try {
      for (const lan of options.cluster.lans) {
        const me = lan.nodes.find((n) => n.name === options.local);
        if (me) {
          transports.set(
            lan.name,
            await openUdpTransport({ addr: me.laddr ?? me.addr, port: me.port ?? options.cluster.port }),
          );
        }
      }
    } catch (error) {
      await Promise.all([...transports.values()].map((t) => t.close()));
      throw error;
    }
    return new MembershipService({ ...options, transports });
  }

  constructor(options: MembershipServiceOptions) {
    this.#frameKind = options.frameKind ?? MEMBERSHIP_FRAME_KIND;
    this.local = options.local;
    this.#key = options.key;
    this.#cluster = options.cluster;
    this.#transports = options.transports;
    this.#clock = options.clock ?? systemClock;
    this.epoch = options.epoch ?? newBootEpoch(this.#clock.now());
    this.#allowed = namesOf(options.cluster);
    this.#state = initialState({ ...settingsOf(options.cluster), local: this.local }, this.#clock.now());
    for (const [lan, transport] of this.#transports) {
      transport.onReceive((_from, bytes) => this.#receive(lan, bytes));
    }
    this.#startTimer();
    this.#tick();
  }

  /** Sorted names of the UP nodes, local included. */
  view(): readonly string[] {
    return this.#state.view;
  }

  /** The lowest-named UP node, or null during start-up. */
  leader(): string | null {
    return this.#state.leader;
  }

  lans(): { node: string; lan: string; up: boolean }[] {
    return lanStatus(this.#state);
  }

  /** Calls `listener` on every nodeUp, nodeDown, lanChanged, viewChanged, leaderChanged; returns unsubscribe. */
  onChange(listener: (change: MembershipChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  counters(): MembershipCounters {
    return { ...this.#counters, dropped: { ...this.#counters.dropped } };
  }

  /** Applies a new cluster.xml (same lans' transports; new nodes, timings). */
  reconfigure(cluster: MembershipCluster): void {
    const pulseChanged = cluster.pulseMs !== this.#cluster.pulseMs;
    this.#cluster = cluster;
    this.#allowed = namesOf(cluster);
    this.#apply({ kind: "configChanged", settings: settingsOf(cluster) });
    if (pulseChanged) this.#startTimer();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopTimer();
    await Promise.all([...this.#transports.values()].map((t) => t.close()));
  }

  #startTimer(): void {
    this.#stopTimer();
    this.#stopTimer = this.#clock.every(this.#cluster.pulseMs, () => this.#tick());
  }

  #tick(): void {
    if (!this.#closed) this.#apply({ kind: "tick" });
  }

  #drop(reason: DropReason): void {
    this.#counters.dropped[reason] = (this.#counters.dropped[reason] ?? 0) + 1;
  }

  #receive(lan: string, bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#counters.received++;
    const opened = open(this.#key, bytes, this.#replay, { allowedSenders: this.#allowed });
    if (!opened.ok) return this.#drop(opened.reason);
    this.#replay = opened.replayState;
    const { packet } = opened;
    if (packet.kind !== this.#frameKind) return this.#drop("wrong_kind");
    const decoded = decodeMembershipPayload(packet.payload);
    if (!decoded.ok) return this.#drop("bad_payload");
    const { payload } = decoded;
    if (payload.to !== this.local) return this.#drop("wrong_destination");
    if (payload.lan !== lan) return this.#drop("wrong_lan");
    const ignored = this.#apply({
      kind: "received",
      from: packet.sender,
      lan,
      epoch: packet.epoch,
      payload: { view: payload.view, leader: payload.leader },
    });
    if (ignored) this.#drop(ignored);
    else this.#counters.accepted++;
  }

  /** Steps the automaton and executes its effects; returns the reason if the event was ignored. */
  #apply(event: Parameters<typeof step>[1]): string | null {
    const out = step(this.#state, event, this.#clock.now());
    this.#state = out.state;
    let ignored: string | null = null;
    for (const effect of out.effects) {
      if (effect.kind === "send") this.#sendPulse(effect.payload);
      else if (effect.kind === "ignored") ignored = effect.reason;
      else this.#notify(effect);
    }
    return ignored;
  }

  #sendPulse(pulse: { view: readonly string[]; leader: string | null }): void {
    for (const lan of this.#cluster.lans) {
      const transport = this.#transports.get(lan.name);
      if (!transport || !lan.nodes.some((n) => n.name === this.local)) continue;
      for (const peer of lan.nodes) {
        if (peer.name === this.local) continue;
        const payload = encodeMembershipPayload({ lan: lan.name, to: peer.name, ...pulse });
        const frame = seal(this.#key, {
          kind: this.#frameKind,
          sender: this.local,
          epoch: this.epoch,
          seq: this.#seq++,
          payload,
        });
        const to: Endpoint = { addr: peer.addr, port: peer.port ?? this.#cluster.port };
        transport.send(to, frame);
        this.#counters.sent++;
      }
    }
  }

  #notify(change: MembershipChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (error) {
        // A faulty listener must not stop the heartbeat; count it and say so.
        this.#counters.listenerErrors++;
        console.error("membership listener failed:", error);
      }
    }
  }
}

function settingsOf(cluster: MembershipCluster): MembershipSettings {
  return {
    pulseMs: cluster.pulseMs,
    mlostCount: cluster.mlostCount,
    slostCount: cluster.slostCount,
    lans: cluster.lans.map((lan) => ({ name: lan.name, nodes: lan.nodes.map((n) => n.name) })),
  };
}

function namesOf(cluster: MembershipCluster): ReadonlySet<string> {
  return new Set(cluster.lans.flatMap((lan) => lan.nodes.map((n) => n.name)));
}
