// Deterministic cluster simulator for the mirror automaton: the REAL step() of every node, a virtual
// clock, a virtual heartbeat network (seeded delay, loss, duplication, reordering, one-way and total
// partitions), crashes, pauses (the process stops, its clock goes on), restarts, scripts and
// reintegrations that finish after random delays, and random admin commands. Invariants are checked
// after every step; a failure carries the seed and the event trace (replay with MIRROR_SIM_SEED=n).

import {
  initialMirrorState,
  type MirrorConfig,
  type MirrorEffect,
  type MirrorEvent,
  type MirrorState,
  type PersistentFacts,
  step,
} from "../../src/core/mirror_automaton.ts";
import type { CommandVerb, HeartbeatPayload, LocalStateName } from "../../src/core/mirror_types.ts";

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type SimOptions = {
  readonly seed: number;
  readonly nodes: readonly [string, string];
  readonly heartbeats: readonly string[];
  readonly pulseMs: number;
  readonly timeoutMs: number;
  readonly tickMs: number;
  readonly scriptMs: readonly [number, number];
  readonly scriptFailRate: number;
  readonly resyncMs: readonly [number, number];
  readonly resyncFailRate: number;
  readonly netDelayMs: readonly [number, number];
  readonly lossRate: number;
  readonly dupRate: number;
  readonly config?: Partial<Omit<MirrorConfig, "node" | "peer" | "heartbeats">>;
  readonly boot?: "on" | "off" | "auto" | "ignore";
};

export const quietNetwork: Omit<SimOptions, "seed"> = {
  nodes: ["node1", "node2"],
  heartbeats: ["default", "flow"],
  pulseMs: 700,
  timeoutMs: 5000,
  tickMs: 500,
  scriptMs: [100, 100],
  scriptFailRate: 0,
  resyncMs: [2000, 2000],
  resyncFailRate: 0,
  netDelayMs: [10, 10],
  lossRate: 0,
  dupRate: 0,
};

export type LogLine = {
  readonly t: number;
  readonly component: string;
  readonly level: string;
  readonly message: string;
};

type SimNode = {
  readonly name: string;
  state: MirrorState;
  persisted: PersistentFacts;
  up: boolean; // process running
  paused: boolean;
  backlog: MirrorEvent[]; // events that reached a paused process
  lastSeen: Record<string, number>;
  timedOut: Record<string, boolean>;
  payload: HeartbeatPayload | null;
  scripts: Map<number, string>;
  resyncToken: number | null;
  logs: LogLine[];
  /** scripts started, e.g. "stop_prim force", with the time they started */
  scriptRuns: { t: number; script: string }[];
  resyncs: string[];
  replies: Map<string, { ok: boolean; error?: string }>;
  // ground truth of the replicated data: the chain of primary terms written on this node's disk
  data: number[];
  halfCopied: boolean;
};

type Timed = { t: number; seq: number; run: () => void; label: string };

export class MirrorSim {
  now = 0;
  readonly trace: string[] = [];
  readonly violations: string[] = [];
  readonly rand: () => number;
  readonly opts: SimOptions;
  readonly nodes = new Map<string, SimNode>();
  /** links[from][to][ident] false = this heartbeat is cut in that direction */
  private readonly cut = new Set<string>();
  private readonly queue: Timed[] = [];
  private seq = 0;
  private nextGen = 1;
  private readonly forcedGens = new Set<number>();
  private nextCommand = 1;
  private pending = new Map<string, string>(); // commandId -> node, until answered
  private dualSince: number | null = null;
  private connectedSince: number | null = 0;
  private dualEpisodeDisturbed = false;
  readonly maxStableMs: number;

  constructor(opts: SimOptions) {
    this.opts = opts;
    this.rand = mulberry32(opts.seed);
    // A dual primary may last while the peers detect each other and the loser runs its stop scripts.
    this.maxStableMs = opts.timeoutMs + 12 * opts.scriptMs[1] + 3 * opts.pulseMs + opts.netDelayMs[1] * 4 +
      2 * opts.tickMs;
    for (const name of opts.nodes) {
      const peer = opts.nodes.find((n) => n !== name)!;
      const config: MirrorConfig = {
        node: name,
        peer,
        heartbeats: opts.heartbeats,
        replicated: true,
        failover: "on",
        defaultprim: { kind: "alone" },
        maxSyncDeltaMs: 90_000,
        syncRefreshMs: 10_000,
        ...opts.config,
      };
      const state = initialMirrorState(config);
      this.nodes.set(name, {
        name,
        state,
        persisted: state.persist,
        up: true,
        paused: false,
        backlog: [],
        lastSeen: Object.fromEntries(opts.heartbeats.map((h) => [h, 0])),
        timedOut: {},
        payload: null,
        scripts: new Map(),
        resyncToken: null,
        logs: [],
        scriptRuns: [],
        resyncs: [],
        replies: new Map(),
        data: [],
        halfCopied: false,
      });
      this.schedule(this.rand() * opts.pulseMs, `pulse ${name}`, () => this.pulse(name));
      this.schedule(this.rand() * opts.tickMs, `tick ${name}`, () => this.tick(name));
    }
    for (const name of opts.nodes) {
      this.deliver(name, { kind: "tick" });
      if (opts.boot) this.deliver(name, { kind: "boot", boot: opts.boot, bootDelayMs: 0 });
    }
  }

  node(name: string): SimNode {
    return this.nodes.get(name)!;
  }
  private peerOf(name: string): SimNode {
    return [...this.nodes.values()].find((n) => n.name !== name)!;
  }
  private between([lo, hi]: readonly [number, number]): number {
    return lo + this.rand() * (hi - lo);
  }

  schedule(delay: number, label: string, run: () => void) {
    const item = { t: this.now + delay, seq: this.seq++, run, label };
    // binary heap insert
    const q = this.queue;
    q.push(item);
    let i = q.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (before(q[p], q[i])) break;
      [q[p], q[i]] = [q[i], q[p]];
      i = p;
    }
  }
  private pop(): Timed | undefined {
    const q = this.queue;
    const top = q[0];
    const last = q.pop();
    if (q.length > 0 && last) {
      q[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < q.length && before(q[l], q[m])) m = l;
        if (r < q.length && before(q[r], q[m])) m = r;
        if (m === i) break;
        [q[m], q[i]] = [q[i], q[m]];
        i = m;
      }
    }
    return top;
  }

  runUntil(t: number) {
    while (this.queue.length > 0 && this.queue[0].t <= t) {
      const item = this.pop()!;
      this.now = item.t;
      item.run();
    }
    this.now = t;
  }

  // ------------------------------------------------------------ network

  isCut(from: string, to: string, ident: string) {
    return this.cut.has(`${from}>${to}>${ident}`);
  }
  setCut(from: string, to: string, ident: string, cut: boolean) {
    const k = `${from}>${to}>${ident}`;
    if (cut) this.cut.add(k);
    else this.cut.delete(k);
    this.trace.push(`${Math.round(this.now)} net ${from}->${to} ${ident} ${cut ? "cut" : "healed"}`);
  }
  partition(kind: "total" | "oneway" | "heal", from?: string) {
    const [a, b] = this.opts.nodes;
    for (const h of this.opts.heartbeats) {
      if (kind === "heal") {
        this.setCut(a, b, h, false);
        this.setCut(b, a, h, false);
      } else if (kind === "total") {
        this.setCut(a, b, h, true);
        this.setCut(b, a, h, true);
      } else this.setCut(from ?? a, from === b ? a : b, h, true);
    }
  }
  /** some heartbeat works in both directions between two running, unpaused processes */
  connected(): boolean {
    const [a, b] = this.opts.nodes;
    const na = this.node(a), nb = this.node(b);
    if (!na.up || !nb.up || na.paused || nb.paused) return false;
    return this.opts.heartbeats.some((h) => !this.isCut(a, b, h) && !this.isCut(b, a, h));
  }

  private send(from: string, payload: HeartbeatPayload) {
    const to = this.peerOf(from).name;
    for (const ident of this.opts.heartbeats) {
      if (this.isCut(from, to, ident) || this.rand() < this.opts.lossRate) continue;
      const copies = this.rand() < this.opts.dupRate ? 2 : 1;
      for (let i = 0; i < copies; i++) {
        this.schedule(this.between(this.opts.netDelayMs), `hb ${from}->${to}`, () => {
          const n = this.node(to);
          if (!n.up) return;
          n.lastSeen[ident] = this.now;
          n.timedOut[ident] = false;
          this.deliver(to, { kind: "heartbeat", ident, payload });
        });
      }
    }
  }
  private pulse(name: string) {
    const n = this.node(name);
    if (n.up && !n.paused && n.payload) this.send(name, n.payload);
    this.schedule(this.opts.pulseMs, `pulse ${name}`, () => this.pulse(name));
  }
  private tick(name: string) {
    const n = this.node(name);
    if (n.up && !n.paused) {
      // the heartbeat driver: one timeout per heartbeat, reported once
      for (const ident of this.opts.heartbeats) {
        if (!n.timedOut[ident] && this.now - n.lastSeen[ident] >= this.opts.timeoutMs) {
          n.timedOut[ident] = true;
          this.deliver(name, { kind: "heartbeatTimeout", ident });
        }
      }
      this.deliver(name, { kind: "tick" });
    }
    this.schedule(this.opts.tickMs, `tick ${name}`, () => this.tick(name));
  }

  // ------------------------------------------------------------ faults

  crash(name: string) {
    const n = this.node(name);
    if (!n.up) return;
    this.trace.push(`${Math.round(this.now)} ${name} CRASH`);
    n.up = false;
    n.paused = false;
    n.backlog = [];
    n.scripts.clear();
    if (n.resyncToken !== null) n.halfCopied = true;
    n.resyncToken = null;
    n.payload = null;
    this.dualEpisodeDisturbed = true;
    for (const [id, owner] of this.pending) if (owner === name) this.pending.delete(id);
  }
  restart(name: string, boot: "on" | "off" | "auto" | "ignore" = "auto") {
    const n = this.node(name);
    if (n.up) return;
    this.trace.push(`${Math.round(this.now)} ${name} RESTART boot=${boot}`);
    n.up = true;
    n.state = initialMirrorState(n.state.config, n.persisted);
    n.lastSeen = Object.fromEntries(this.opts.heartbeats.map((h) => [h, this.now]));
    n.timedOut = {};
    this.deliver(name, { kind: "boot", boot, bootDelayMs: 0 });
  }
  pause(name: string) {
    const n = this.node(name);
    if (!n.up || n.paused) return;
    this.trace.push(`${Math.round(this.now)} ${name} PAUSE`);
    n.paused = true;
  }
  resume(name: string) {
    const n = this.node(name);
    if (!n.paused) return;
    this.trace.push(`${Math.round(this.now)} ${name} RESUME (${n.backlog.length} queued)`);
    n.paused = false;
    // Like a real driver draining its socket after a stall, only the newest heartbeat of each
    // heartbeat network is delivered: acting on each stale one in turn would replay old decisions.
    const backlog = n.backlog;
    n.backlog = [];
    const lastIndex = new Map<string, number>();
    backlog.forEach((e, i) => {
      if (e.kind === "heartbeat") lastIndex.set(e.ident, i);
    });
    backlog.forEach((e, i) => {
      if (e.kind !== "heartbeat" || lastIndex.get(e.ident) === i) this.deliver(name, e);
    });
  }

  // ------------------------------------------------------------ commands

  command(
    name: string,
    verb: CommandVerb,
    extra: { fullsync?: boolean; nosync?: boolean; date?: number } = {},
  ) {
    const id = `c${this.nextCommand++}`;
    const n = this.node(name);
    if (!n.up) return id; // the CLI gets a connection error; nothing reaches the automaton
    this.pending.set(id, name);
    if (
      verb === "stop" || verb === "forcestop" || verb === "shutdown" || verb === "prim" ||
      verb === "primforce"
    ) {
      this.dualEpisodeDisturbed = true;
    }
    this.deliver(name, { kind: "command", id, verb, by: "root", ...extra });
    return id;
  }

  // ------------------------------------------------------------ the driver of one node

  deliver(name: string, event: MirrorEvent) {
    const n = this.node(name);
    if (!n.up) return;
    if (n.paused) {
      n.backlog.push(event);
      return;
    }
    const before = n.state;
    const out = step(n.state, event, this.now);
    n.state = out.state;
    n.persisted = out.state.persist;
    // quiet heartbeats and ticks (no effect) would drown the trace
    if (out.effects.length > 0 || (event.kind !== "heartbeat" && event.kind !== "tick")) {
      const logs = out.effects.flatMap((e) => e.kind === "log" && e.level !== "I" ? [e.message] : []);
      this.trace.push(
        `${Math.round(this.now)} ${name} <- ${describe(event)} => ${out.state.local} ${out.state.qual}` +
          (logs.length ? ` | ${logs.join(" | ")}` : ""),
      );
    }
    for (const e of out.effects) this.execute(n, e);
    this.checkAfterStep(n, before, event);
  }

  private execute(n: SimNode, e: MirrorEffect) {
    switch (e.kind) {
      case "log":
        n.logs.push({ t: this.now, component: e.component, level: e.level, message: e.message });
        return;
      case "runScript": {
        n.scriptRuns.push({ t: this.now, script: `${e.name}${e.force ? " force" : ""}` });
        n.scripts.set(e.runId, e.name);
        const failed = this.rand() < this.opts.scriptFailRate;
        const timedOut = failed && this.rand() < 0.3;
        this.schedule(this.between(this.opts.scriptMs), `script ${n.name} ${e.name}`, () => {
          if (!n.up || !n.scripts.has(e.runId)) return;
          n.scripts.delete(e.runId);
          this.deliver(n.name, {
            kind: "scriptFinished",
            script: e.name,
            runId: e.runId,
            exitCode: failed ? 1 : 0,
            timedOut,
          });
        });
        return;
      }
      case "killScript":
        n.scripts.delete(e.runId);
        return;
      case "setHeartbeatPayload":
        n.payload = e.payload;
        this.send(n.name, e.payload);
        return;
      case "reply":
        if (!this.pending.has(e.commandId)) {
          this.violate(`${n.name}: reply to unknown or answered ${e.commandId}`);
        }
        this.pending.delete(e.commandId);
        n.replies.set(e.commandId, { ok: e.ok, ...(e.error ? { error: e.error } : {}) });
        return;
      case "startResync": {
        const token = this.seq;
        n.resyncs.push(e.since === undefined ? e.mode : `${e.mode} since ${e.since}`);
        n.resyncToken = token;
        const fails = this.rand() < this.opts.resyncFailRate;
        this.schedule(this.between(this.opts.resyncMs), `resync ${n.name}`, () => {
          if (!n.up || n.resyncToken !== token) return;
          n.resyncToken = null;
          const source = this.peerOf(n.name);
          // the copy needs its source primary running all along (and, here, still running at the end)
          if (fails || !source.up || !isPrimary(source.state.local)) {
            return this.deliver(n.name, { kind: "resyncFailed", reason: "simulated" });
          }
          n.data = [...source.data];
          n.halfCopied = false;
          this.deliver(n.name, { kind: "resyncFinished" });
        });
        return;
      }
      case "stopResync":
        if (n.resyncToken !== null) n.halfCopied = true;
        n.resyncToken = null;
        return;
      case "setResource":
      case "readyChanged":
        return;
    }
  }

  // ------------------------------------------------------------ invariants

  private violate(what: string) {
    this.violations.push(`t=${this.now}: ${what}`);
  }

  primaries(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.up && isPrimary(n.state.local));
  }

  private checkAfterStep(n: SimNode, before: MirrorState, event: MirrorEvent) {
    // every command is answered in the step that received it
    if (event.kind === "command" && this.pending.has(event.id)) {
      this.violate(`${n.name}: command ${event.id} (${event.verb}) not answered`);
      this.pending.delete(event.id);
    }
    // ground truth of data: entering ALONE writes a new generation no one else has
    if (n.state.local === "ALONE" && before.local !== "ALONE") {
      const action = n.state.job?.action ?? "";
      // Data made newer by an admin's prim/primforce elsewhere (and what followed it) is the admin's
      // choice, not an error.
      const newer = [...this.nodes.values()].find((o) =>
        o !== n && extendsStrictly(o.data, n.data) && !this.forcedGens.has(o.data[n.data.length])
      );
      if (["start", "swap"].includes(action) && newer) {
        this.violate(`${n.name} became primary by '${action}' with data older than ${newer.name}'s`);
      }
      if (n.halfCopied && action !== "primforce") {
        this.violate(`${n.name} became primary by '${action}' with half-copied data`);
      }
      if (action === "primforce") n.halfCopied = false;
      if (action === "prim" || action === "primforce") this.forcedGens.add(this.nextGen);
      n.data = [...n.data, this.nextGen++];
      // a primary already running elsewhere keeps writing: from now on the histories diverge
      for (const o of this.nodes.values()) {
        if (o !== n && o.up && isPrimary(o.state.local)) o.data = [...o.data, this.nextGen++];
      }
    }
    this.checkDualPrimary();
  }

  checkDualPrimary() {
    const connected = this.connected();
    if (connected && this.connectedSince === null) this.connectedSince = this.now;
    if (!connected) this.connectedSince = null;
    const dual = this.primaries().length > 1;
    if (dual && this.dualSince === null) {
      this.dualSince = this.now;
      this.dualEpisodeDisturbed = false;
    }
    if (!dual && this.dualSince !== null) {
      // a split brain healed by the automaton leaves exactly one primary
      if (connected && !this.dualEpisodeDisturbed && this.primaries().length !== 1) {
        this.violate(`split brain healed to ${this.primaries().length} primaries`);
      }
      this.dualSince = null;
    }
    if (dual && this.connectedSince !== null) {
      const overlap = this.now - Math.max(this.dualSince!, this.connectedSince);
      if (overlap > this.maxStableMs) {
        this.violate(`two primaries for ${overlap} ms while heartbeats work both ways`);
        this.dualSince = this.now; // report once per episode
      }
    }
  }

  /** After faults stop: nothing stuck in an action, a started pair converges to PRIM/SECOND Ready. */
  checkSettled() {
    for (const n of this.nodes.values()) {
      if (n.state.job) this.violate(`${n.name} still running action '${n.state.job.action}' after settling`);
    }
    const states = [...this.nodes.values()].map((n) => `${n.state.local} ${n.state.qual}`);
    const prim = this.primaries();
    if (prim.length > 1) this.violate(`settled with two primaries: ${states.join(" / ")}`);
    if (prim.length === 1) {
      const other = this.peerOf(prim[0].name);
      if (other.state.local === "SECOND" || other.state.local === "WAIT") {
        const okPair = `${prim[0].state.local} ${prim[0].state.qual}` === "PRIM Ready" &&
          `${other.state.local} ${other.state.qual}` === "SECOND Ready";
        if (!okPair) this.violate(`settled in ${states.join(" / ")} instead of PRIM Ready / SECOND Ready`);
      }
    }
  }

  /** the last lines of the trace, for a failure report */
  tail(lines = 120): string {
    return this.trace.slice(-lines).join("\n");
  }
}

function before(a: Timed, b: Timed) {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}
const isPrimary = (s: LocalStateName) => s === "PRIM" || s === "ALONE";
function extendsStrictly(longer: number[], shorter: number[]) {
  return longer.length > shorter.length && shorter.every((g, i) => longer[i] === g);
}
function describe(e: MirrorEvent): string {
  switch (e.kind) {
    case "command":
      return `command ${e.id} ${e.verb}${e.fullsync ? " fullsync" : ""}${e.nosync ? " nosync" : ""}`;
    case "heartbeat":
      return `hb ${e.ident} ${e.payload.state} ${e.payload.qual} #${e.payload.epoch}`;
    case "heartbeatTimeout":
      return `hb ${e.ident} timeout`;
    case "scriptFinished":
      return `script ${e.script} exit ${e.exitCode}${e.timedOut ? " timeout" : ""}`;
    default:
      return e.kind;
  }
}

// ------------------------------------------------------------ random schedules

const verbs: readonly CommandVerb[] = [
  "start",
  "start",
  "start",
  "stop",
  "stop",
  "restart",
  "stopstart",
  "swap",
  "prim",
  "second",
  "primforce",
  "secondforce",
  "forcestop",
  "shutdown",
];

export type ScheduleResult = {
  seed: number;
  violations: string[];
  trace: string;
  /** final "node1 / node2" states, and how often each log message appeared (coverage) */
  finalStates: string;
  messages: Map<string, number>;
};

/** One random fault schedule: faults for `faultMs`, then everything healed and left to settle. */
export function runRandomSchedule(seed: number, faultMs = 120_000, settleMs = 60_000): ScheduleResult {
  const r = mulberry32(seed ^ 0x9e3779b9);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const sim = new MirrorSim({
    ...quietNetwork,
    seed,
    scriptMs: [20, 1500],
    scriptFailRate: 0.05,
    resyncMs: [300, 8000],
    resyncFailRate: 0.05,
    netDelayMs: [1, 400],
    lossRate: r() * 0.2,
    dupRate: 0.05,
    config: {
      failover: r() < 0.15 ? "off" : "on",
      defaultprim: pick([{ kind: "alone" }, { kind: "lastprim" }, { kind: "node", node: "node1" }] as const),
    },
  });
  const names = sim.opts.nodes;
  // a typical first configuration: prim on one node, second on the other
  sim.command("node1", "prim");
  sim.runUntil(3000);
  sim.command("node2", "second");
  let t = 3000;
  while (t < faultMs) {
    t += 200 + r() * 6000;
    sim.runUntil(t);
    const who = pick(names);
    const x = r();
    if (x < 0.45) {
      const verb = pick(verbs);
      sim.command(who, verb, {
        fullsync: r() < 0.2,
        nosync: r() < 0.2,
        ...(verb === "secondforce" ? { date: t - 60_000 } : {}),
      });
    } else if (x < 0.55) sim.partition("total");
    else if (x < 0.62) sim.partition("oneway", who);
    else if (x < 0.68) {
      sim.setCut(
        who,
        sim.node(who) === sim.node(names[0]) ? names[1] : names[0],
        pick(sim.opts.heartbeats),
        true,
      );
    } else if (x < 0.8) sim.partition("heal");
    else if (x < 0.86) sim.crash(who);
    else if (x < 0.92) sim.restart(who);
    else if (x < 0.96) sim.pause(who);
    else sim.resume(who);
  }
  // quiet period: heal everything, bring every node back, no more commands
  sim.partition("heal");
  for (const n of names) {
    sim.resume(n);
    sim.restart(n);
  }
  sim.runUntil(faultMs + settleMs);
  // started nodes must have converged
  sim.checkSettled();
  const messages = new Map<string, number>();
  for (const n of sim.nodes.values()) {
    for (const l of n.logs) messages.set(l.message, (messages.get(l.message) ?? 0) + 1);
  }
  return {
    seed,
    violations: sim.violations,
    trace: sim.tail(Number(Deno.env.get("MIRROR_SIM_TRACE") ?? 150)),
    finalStates: [...sim.nodes.values()].map((n) => `${n.state.local} ${n.state.qual}`).join(" / "),
    messages,
  };
}
