// Cluster membership (safeadmin's leader/follower protocol, spec §1.2, §4.1) as a pure automaton:
// `step(state, event, now) -> { state, effects }`. No clock, no I/O; the driver is heart/membership_service.ts.
//
// Semantics (SafeKit does not publish its protocol, spec §13; this is our design):
// - Every node sends a pulse every `pulseMs` on every lan it shares with each peer (effect `send`; the driver
//   addresses it). The first tick sends at once.
// - Per peer and per lan we keep when the last pulse arrived. A lan is UP for a peer while it delivered a
//   pulse within slost_count × pulse (effect `lanChanged`). A peer stays UP while at least one lan delivered a
//   pulse within its timeout, so losing one lan alone never drops a node.
// - The leader is the lowest-named UP node (code-unit order, local included): every node that sees the same
//   view elects the same leader, with no election messages.
// - Timeouts: a follower declares the *leader* lost after mlost_count × pulse (the longer timeout avoids
//   needless leader changes on a hiccup); every other peer (what a leader sees of its followers, and a
//   follower of other followers) is declared lost after slost_count × pulse. Silence is judged on ticks, so a
//   loss is reported at the first tick at or after the timeout.
// - A pulse carrying a higher boot epoch than known means the peer restarted: its old incarnation is reported
//   down then up again (`reason: "restarted"`), since whatever it held is gone. A lower epoch is stale and
//   ignored (the frame layer already refuses those; the automaton does not rely on it).
// - Start-up: the leader is not named (null) until every configured peer is UP or slost_count × pulse has
//   passed since start, so a node joining a running cluster does not first elect itself.
// - The membership view is the sorted list of UP names, local included. What peers report (their view and
//   leader) is kept for diagnosis but never overrides our own observations.
// - configChanged replaces nodes, lans and timings: removed peers that were UP go down (`reason: "removed"`),
//   per-lan history of removed lans is forgotten, new peers start unknown.

export type MembershipLan = { readonly name: string; readonly nodes: readonly string[] };

export type MembershipSettings = {
  readonly lans: readonly MembershipLan[];
  readonly pulseMs: number;
  readonly mlostCount: number;
  readonly slostCount: number;
};

export type MembershipConfig = MembershipSettings & { readonly local: string };

/** What each pulse tells the peers: our view of the cluster. */
export type MembershipPayload = { readonly view: readonly string[]; readonly leader: string | null };

export type PeerState = {
  readonly name: string;
  /** Lans shared with the local node: the only ones its pulses can arrive on. */
  readonly lans: readonly string[];
  readonly up: boolean;
  readonly epoch: number | null;
  readonly lastSeen: ReadonlyMap<string, number>;
  readonly lanUp: ReadonlyMap<string, boolean>;
  readonly reported: MembershipPayload | null;
};

export type MembershipState = {
  readonly config: MembershipConfig;
  readonly startedAt: number;
  readonly nextPulseAt: number;
  readonly peers: ReadonlyMap<string, PeerState>;
  readonly view: readonly string[];
  readonly leader: string | null;
  /** False during start-up, while the leader is not named yet. */
  readonly settled: boolean;
};

export type MembershipEvent =
  | { readonly kind: "tick" }
  | {
    readonly kind: "received";
    readonly from: string;
    readonly lan: string;
    /** The sender's boot epoch, from the authenticated frame. */
    readonly epoch: number;
    readonly payload: MembershipPayload;
  }
  | { readonly kind: "configChanged"; readonly settings: MembershipSettings };

export type IgnoredReason =
  | "from_self"
  | "unknown_node"
  | "not_on_lan"
  | "stale_epoch"
  | "local_not_in_config";

export type MembershipEffect =
  | { readonly kind: "send"; readonly payload: MembershipPayload }
  | { readonly kind: "nodeUp"; readonly name: string }
  | { readonly kind: "nodeDown"; readonly name: string; readonly reason: "silent" | "restarted" | "removed" }
  | { readonly kind: "lanChanged"; readonly node: string; readonly lan: string; readonly up: boolean }
  | { readonly kind: "viewChanged"; readonly view: readonly string[] }
  | { readonly kind: "leaderChanged"; readonly leader: string | null; readonly previous: string | null }
  | { readonly kind: "ignored"; readonly reason: IgnoredReason; readonly detail: string };

export type StepResult = { readonly state: MembershipState; readonly effects: MembershipEffect[] };

/** Plain code-unit order, identical on every node whatever its locale. */
export const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function initialState(config: MembershipConfig, now: number): MembershipState {
  checkSettings(config);
  return {
    config,
    startedAt: now,
    nextPulseAt: now,
    peers: peersFor(config, new Map()),
    view: [config.local],
    leader: null,
    settled: false,
  };
}

export function step(state: MembershipState, event: MembershipEvent, now: number): StepResult {
  switch (event.kind) {
    case "tick":
      return tick(state, now);
    case "received":
      return received(state, event, now);
    case "configChanged":
      return configChanged(state, event.settings, now);
  }
}

/** Per peer and lan, whether pulses currently arrive: what `safekit state`-like displays show. */
export function lanStatus(state: MembershipState): { node: string; lan: string; up: boolean }[] {
  return [...state.peers.values()].flatMap((p) =>
    p.lans.map((lan) => ({ node: p.name, lan, up: !!p.lanUp.get(lan) }))
  );
}

function tick(state: MembershipState, now: number): StepResult {
  const effects: MembershipEffect[] = [];
  let next = evaluate(state, now, effects);
  const pulse = next.config.pulseMs;
  // A timer may fire a little early; a tenth of a pulse of slack keeps such a tick from skipping a beat.
  if (now + pulse / 10 >= next.nextPulseAt) {
    effects.push({ kind: "send", payload: { view: next.view, leader: next.leader } });
    // Keep the cadence, but after a long stall start afresh instead of sending a burst of pulses.
    const nextPulseAt = now - next.nextPulseAt < pulse ? next.nextPulseAt + pulse : now + pulse;
    next = { ...next, nextPulseAt };
  }
  return { state: next, effects };
}

function received(
  state: MembershipState,
  event: Extract<MembershipEvent, { kind: "received" }>,
  now: number,
): StepResult {
  const ignore = (reason: IgnoredReason, detail: string): StepResult => ({
    state,
    effects: [{ kind: "ignored", reason, detail }],
  });
  if (event.from === state.config.local) return ignore("from_self", event.from);
  const peer = state.peers.get(event.from);
  if (!peer) return ignore("unknown_node", event.from);
  if (!peer.lans.includes(event.lan)) return ignore("not_on_lan", `${event.from} on ${event.lan}`);
  if (peer.epoch !== null && event.epoch < peer.epoch) {
    return ignore("stale_epoch", `${event.from} epoch ${event.epoch} < ${peer.epoch}`);
  }
  const effects: MembershipEffect[] = [];
  if (peer.up && peer.epoch !== null && event.epoch > peer.epoch) {
    effects.push({ kind: "nodeDown", name: peer.name, reason: "restarted" });
  }
  if (!peer.up || (peer.epoch !== null && event.epoch > peer.epoch)) {
    effects.push({ kind: "nodeUp", name: peer.name });
  }
  const lastSeen = new Map(peer.lastSeen).set(event.lan, now);
  const updated: PeerState = { ...peer, up: true, epoch: event.epoch, lastSeen, reported: event.payload };
  const peers = new Map(state.peers).set(peer.name, updated);
  return { state: evaluate({ ...state, peers }, now, effects), effects };
}

function configChanged(state: MembershipState, settings: MembershipSettings, now: number): StepResult {
  const config: MembershipConfig = { ...settings, local: state.config.local };
  if (!settings.lans.some((lan) => lan.nodes.includes(config.local))) {
    return {
      state,
      effects: [{ kind: "ignored", reason: "local_not_in_config", detail: config.local }],
    };
  }
  checkSettings(config);
  const effects: MembershipEffect[] = [];
  const peers = peersFor(config, state.peers);
  for (const old of state.peers.values()) {
    if (old.up && !peers.has(old.name)) effects.push({ kind: "nodeDown", name: old.name, reason: "removed" });
  }
  const nextPulseAt = Math.min(state.nextPulseAt, now + config.pulseMs);
  return { state: evaluate({ ...state, config, peers, nextPulseAt }, now, effects), effects };
}

/** Applies timeouts at `now`, then derives lan status, view and leader; appends what changed to `effects`. */
function evaluate(state: MembershipState, now: number, effects: MembershipEffect[]): MembershipState {
  const { pulseMs, mlostCount, slostCount, local } = state.config;
  const slostMs = slostCount * pulseMs;
  const leaderIsPeer = state.leader !== null && state.leader !== local;
  const peers = new Map<string, PeerState>();
  for (const peer of state.peers.values()) {
    const lanUp = new Map<string, boolean>();
    for (const lan of peer.lans) {
      const seen = peer.lastSeen.get(lan);
      const up = seen !== undefined && now - seen < slostMs;
      if (up !== !!peer.lanUp.get(lan)) effects.push({ kind: "lanChanged", node: peer.name, lan, up });
      lanUp.set(lan, up);
    }
    let up = peer.up;
    if (up) {
      const timeoutMs = leaderIsPeer && peer.name === state.leader ? mlostCount * pulseMs : slostMs;
      const last = Math.max(-Infinity, ...peer.lastSeen.values());
      if (now - last >= timeoutMs) {
        up = false;
        effects.push({ kind: "nodeDown", name: peer.name, reason: "silent" });
      }
    }
    peers.set(peer.name, { ...peer, up, lanUp });
  }
  const view = [local, ...[...peers.values()].filter((p) => p.up).map((p) => p.name)].sort(byName);
  if (!sameList(view, state.view)) effects.push({ kind: "viewChanged", view });
  const settled = state.settled || view.length === peers.size + 1 || now - state.startedAt >= slostMs;
  const leader = settled ? view[0] : null;
  if (leader !== state.leader) effects.push({ kind: "leaderChanged", leader, previous: state.leader });
  return { ...state, peers, view, leader, settled };
}

/** The peers of `config`, keeping what is still meaningful from `previous` (same node, lans still shared). */
function peersFor(
  config: MembershipConfig,
  previous: ReadonlyMap<string, PeerState>,
): Map<string, PeerState> {
  const localLans = config.lans.filter((lan) => lan.nodes.includes(config.local));
  // Peers that share no lan with us are still members of the cluster, just never heard from directly.
  const names = new Set(config.lans.flatMap((lan) => lan.nodes).filter((n) => n !== config.local));
  const peers = new Map<string, PeerState>();
  for (const name of [...names].sort(byName)) {
    const lans = localLans.filter((lan) => lan.nodes.includes(name)).map((lan) => lan.name);
    const old = previous.get(name);
    const keep = <T>(m: ReadonlyMap<string, T> | undefined) =>
      new Map([...(m ?? [])].filter(([lan]) => lans.includes(lan)));
    peers.set(name, {
      name,
      lans,
      up: old?.up ?? false,
      epoch: old?.epoch ?? null,
      lastSeen: keep(old?.lastSeen),
      lanUp: keep(old?.lanUp),
      reported: old?.reported ?? null,
    });
  }
  return peers;
}

function checkSettings(config: MembershipConfig): void {
  const ok = (n: number) => Number.isFinite(n) && n > 0;
  if (!ok(config.pulseMs) || !ok(config.mlostCount) || !ok(config.slostCount)) {
    throw new RangeError("membership: pulse, mlost_count and slost_count must be positive numbers");
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
