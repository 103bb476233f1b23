// The shell around one mirror module (DESIGN principle 1): it feeds the pure automaton
// (core/mirror_automaton.ts) with commands, heartbeats, script completions and ticks, and executes the
// effects it returns: scripts, heartbeat payloads, module log lines, resources, replies, persistence.
// It is the only mirror code that reads the clock.
import { join } from "node:path";
import { type ClusterConfig, heartPort, type ModuleConfig } from "../config/mod.ts";
import {
  type CommandVerb,
  initialMirrorState,
  type MirrorConfig,
  type MirrorEffect,
  type MirrorEvent,
  type MirrorState,
  type PersistentFacts,
  type ResyncMode,
  step,
} from "../core/mirror_automaton.ts";
import { type HeartbeatLink, ModuleHeartbeats } from "../heart/module_heartbeats.ts";
import { atomicWriteFileSync } from "../platform/atomic_write.ts";
import type { NodePaths } from "../platform/node_paths.ts";
import type { ModuleLog, ResourceStore } from "../store/mod.ts";
import type { ModuleStateView } from "./module_states.ts";
import { NodeError } from "./node_error.ts";
import { AutomatonScripts } from "./script_runner.ts";
import { type ModuleSupervisor, superviseModule } from "./module_supervisor.ts";
import { MirrorVips, VipConnectionCounter } from "./vip_runtime.ts";
import { type ReplicationStats, RfsRuntime } from "./rfs_runtime.ts";
import { BandwidthMeter } from "../rfs/bandwidth_meter.ts";
import { SyncatScheduler } from "./syncat_scheduler.ts";
import type { ZoneSummary } from "../rfs/zones/zone_summary.ts";

/** Commands that start the module: the failover machine decides afresh (WAIT Transient while init). */
const STARTS = new Set(["start", "prim", "second", "primforce", "secondforce", "stopstart"]);

const TICK_MS = 100;
const SYNC_DELTA_MS = 90_000;
const SYNC_REFRESH_MS = 10_000;

export type CommandOptions = { identity?: string; fullsync?: boolean; nosync?: boolean; date?: number };

export type MirrorRuntimeDeps = {
  readonly paths: NodePaths;
  readonly module: string;
  readonly id: number;
  readonly config: ModuleConfig;
  readonly cluster: ClusterConfig;
  readonly localNode: string;
  readonly key: Uint8Array;
  readonly log: ModuleLog;
  readonly resources: ResourceStore;
  onStateChange(view: ModuleStateView, ready: boolean): void;
};

/** The peer of a mirror module: the one other node on its heartbeat lans. */
export function mirrorPeer(cluster: ClusterConfig, cfg: ModuleConfig, local: string): string {
  const lans = (cfg.heart?.heartbeats ?? []).map((h) => h.name).filter((n): n is string => !!n);
  const others = new Set<string>();
  for (const lan of cluster.lans) {
    if (!lans.includes(lan.name)) continue;
    for (const n of lan.nodes) if (n.name !== local) others.add(n.name);
  }
  if (others.size !== 1) {
    throw new NodeError(
      `a mirror module runs on exactly two nodes: its heartbeat lans hold ${others.size + 1} nodes ` +
        `(${[local, ...others].join(", ")}); give it heartbeat lans with exactly two nodes`,
    );
  }
  return [...others][0];
}

export function heartbeatLinks(
  cluster: ClusterConfig,
  cfg: ModuleConfig,
  id: number,
  local: string,
  peer: string,
) {
  const links: HeartbeatLink[] = [];
  for (const hb of cfg.heart?.heartbeats ?? []) {
    const lan = cluster.lans.find((l) => l.name === hb.name);
    const me = lan?.nodes.find((n) => n.name === local);
    const other = lan?.nodes.find((n) => n.name === peer);
    if (!lan || !me || !other) {
      throw new NodeError(`heartbeat '${hb.resource}': lan '${hb.name}' must hold both ${local} and ${peer}`);
    }
    links.push({
      ident: hb.resource.replace(/^heartbeat\./, ""),
      localAddr: strip(me.laddr ?? me.addr),
      peerAddr: strip(other.addr),
      port: heartPort(id, cfg.heart?.port),
      pulseMs: hb.pulseMs,
      timeoutMs: hb.timeoutMs,
    });
  }
  return links;
}

function strip(a: string): string {
  return a.startsWith("[") && a.endsWith("]") ? a.slice(1, -1) : a;
}

export class MirrorRuntime {
  #state: MirrorState;
  #heartbeats: ModuleHeartbeats | null = null;
  #scripts: AutomatonScripts;
  #pending = new Map<string, (r: { ok: boolean; error?: string }) => void>();
  #tick: ReturnType<typeof setInterval> | undefined;
  #nextCommand = 1;
  #factsFile: string;
  #lastView = "";
  #closed = false;
  #supervisor: ModuleSupervisor | null = null;
  #vips: MirrorVips | null;
  #connections: VipConnectionCounter | null;
  #rfs: RfsRuntime | null;
  #syncat: SyncatScheduler | null;
  /** the primary's replication counters, sampled into rfs.*_bandwidth every second */
  #repStats: ReplicationStats | null = null;
  #repMeter = new BandwidthMeter();
  #reiMeter = new BandwidthMeter();
  #lastBandwidthAt = 0;

  constructor(private readonly d: MirrorRuntimeDeps) {
    this.#factsFile = join(d.paths.moduleVar(d.module), "mirror_facts.json");
    const peer = mirrorPeer(d.cluster, d.config, d.localNode);
    const mc: MirrorConfig = {
      node: d.localNode,
      peer,
      heartbeats: heartbeatLinks(d.cluster, d.config, d.id, d.localNode, peer).map((l) => l.ident),
      replicated: !!d.config.rfs,
      failover: d.config.failover ? "on" : "off",
      defaultprim: d.config.defaultPrim.kind === "node"
        ? { kind: "node", node: d.config.defaultPrim.node }
        : { kind: d.config.defaultPrim.kind },
      maxSyncDeltaMs: SYNC_DELTA_MS,
      syncRefreshMs: SYNC_REFRESH_MS,
      syncat: d.config.rfs?.syncAt !== undefined,
      witnessGate: hasSplitbrainChecker(d.config) &&
        d.resources.get("usersetting.checker")?.value !== "off",
    };
    this.#syncat = d.config.rfs?.syncAt ? new SyncatScheduler(d.config.rfs.syncAt) : null;
    this.#state = initialMirrorState(mc, this.#loadFacts());
    const vipLog = (level: "E" | "I" | "C", message: string) =>
      d.log.append({ at: Date.now(), component: "vipplug", level, message });
    this.#vips = d.config.vip ? new MirrorVips(d.config.vip, vipLog) : null;
    // <virtual_addr connections="on">: connections.<vip> counted on whichever node holds the address.
    this.#connections = d.config.vip
      ? new VipConnectionCounter(
        d.config.vip,
        (name, value) => d.resources.set(name, value, { at: Date.now(), by: "vipd" }),
        vipLog,
      )
      : null;
    this.#rfs = d.config.rfs
      ? new RfsRuntime({
        module: d.module,
        id: d.id,
        config: d.config,
        cluster: d.cluster,
        node: d.localNode,
        peer,
        key: d.key,
        // Zone bitmaps (primary) and the sync record (secondary) live beside the module's other state.
        stateDir: d.paths.moduleVar(d.module),
        log: (level, component, message) => d.log.append({ at: Date.now(), component, level, message }),
        events: {
          lost: (reason) => this.#dispatch({ kind: "replicationLost", reason }),
          failed: () => this.#supervisor?.detected("stopstart", "nfsbox"),
          stats: (st) => this.#repStats = st,
          resyncProgress: (percent) => this.#dispatch({ kind: "resyncProgress", percent }),
          resyncFinished: () => {
            this.#syncPolicyDone();
            this.#dispatch({ kind: "resyncFinished" });
          },
          resyncFailed: (reason) => this.#dispatch({ kind: "resyncFailed", reason }),
        },
      })
      : null;
    this.#scripts = new AutomatonScripts(d.paths, d.module, d.config.user, {
      before: async (name) => {
        await this.#supervisor?.scriptStarting(name);
        if (name === "start_prim") {
          await this.#rfs?.primaryUp().catch((e) =>
            d.log.append({
              at: Date.now(),
              component: "nfsbox",
              level: "C",
              message: `Replication not started: ${e.message}`,
            })
          );
          await this.#vips?.up();
        }
      },
      after: async (name, force) => {
        if (name === "stop_prim" && force) {
          await this.#vips?.down();
          await this.#rfs?.primaryDown();
        }
        this.#supervisor?.scriptEnded(name);
      },
    });
  }

  #loadFacts(): PersistentFacts | undefined {
    try {
      const text = Deno.readTextFileSync(this.#factsFile);
      return JSON.parse(text) as PersistentFacts;
    } catch {
      return undefined;
    }
  }

  /** `atBoot`: the node service is starting, so the module's boot setting applies (not after `config`). */
  async start(atBoot = false): Promise<void> {
    const peer = this.#state.config.peer;
    this.#heartbeats = await ModuleHeartbeats.open({
      module: this.d.module,
      local: this.d.localNode,
      peer,
      key: this.d.key,
      links: heartbeatLinks(this.d.cluster, this.d.config, this.d.id, this.d.localNode, peer),
      onBeat: (ident, payload) => this.#dispatch({ kind: "heartbeat", ident, payload: payload as never }),
      onTimeout: (ident) => this.#dispatch({ kind: "heartbeatTimeout", ident }),
    });
    this.#tick = setInterval(() => {
      this.#dispatch({ kind: "tick" });
      this.#checkSyncat();
      this.#sampleBandwidth();
      const s = this.#state;
      if ((s.local === "PRIM" || s.local === "ALONE") && s.peer?.state === "SECOND") {
        this.#rfs?.peerIsSecond();
      }
    }, TICK_MS);
    this.#supervisor = superviseModule(
      {
        module: this.d.module,
        config: this.d.config,
        resources: this.d.resources,
        log: this.d.log,
        scripts: this.#scripts.runner,
        witnessVerdict: (reachable) => this.#dispatch({ kind: "witnessVerdict", reachable }),
      },
      (e) => this.#dispatch(e),
      () => `c${this.#nextCommand++}`,
    );
    this.#supervisor.start();
    this.#connections?.start();
    this.#publish();
    // Switches kept across restarts and reboots (spec §3.6) override the configuration.
    const setting = (n: string) => this.d.resources.get(`usersetting.${n}`)?.value as string | undefined;
    const failover = setting("failover");
    if (failover === "on" || failover === "off") {
      this.#dispatch({ kind: "setFailover", on: failover === "on" });
    }
    if (!atBoot) return;
    this.#dispatch({
      kind: "boot",
      boot: this.d.config.boot,
      bootDelayMs: this.d.config.bootDelayMs,
      wasRunningBeforeReboot: this.#state.persist.wasRunning,
      // boot="ignore" (the default) follows `safekit boot on|off` (usersetting.boot).
      legacyBootOn: setting("boot") === "on",
    });
  }

  view(): ModuleStateView {
    const s = this.#state;
    const peer = s.peer;
    return {
      local: s.local,
      qualifier: s.qual,
      remote: peer && s.heartbeats && Object.values(s.heartbeats).some((h) => h === "up")
        ? `${peer.state} ${peer.qual}`
        : "UNKNOWN Unknown",
    };
  }

  /** Counters for /metrics. */
  metrics() {
    const st = this.#repStats;
    return {
      replication: st
        ? {
          bytesSent: st.bytesSent,
          reiBytes: st.reiBytes,
          opsSent: st.opsSent,
          opsAcked: st.opsAcked,
          backlogOps: st.opsSent - st.opsAcked,
        }
        : undefined,
      heartbeats: this.#heartbeats?.counters,
      heartbeatRttMs: this.#heartbeats?.roundTrips(),
      scripts: this.#scripts.stats,
    };
  }

  get persistedFacts(): PersistentFacts {
    return this.#state.persist;
  }

  command(
    verb: CommandVerb,
    by: string,
    opts: CommandOptions = {},
  ): Promise<{ ok: boolean; error?: string }> {
    if (this.#closed) return Promise.resolve({ ok: false, error: "the module is being reconfigured" });
    const refused = this.#supervisor?.beforeCommand(verb, opts.identity);
    if (refused) return Promise.resolve({ ok: false, error: refused });
    const id = `c${this.#nextCommand++}`;
    const answer = new Promise<{ ok: boolean; error?: string }>((resolve) => this.#pending.set(id, resolve));
    this.#dispatch({ kind: "command", id, verb, by, ...opts });
    // After the command: its start resets the automaton's wait status, so the verdict must follow it.
    if (STARTS.has(verb)) this.#supervisor?.reset();
    return answer;
  }

  #dispatch(event: MirrorEvent): void {
    if (this.#closed) return;
    const before = this.#state.persist;
    const out = step(this.#state, event, Date.now());
    this.#state = out.state;
    if (out.state.persist !== before && JSON.stringify(out.state.persist) !== JSON.stringify(before)) {
      atomicWriteFileSync(this.#factsFile, JSON.stringify(out.state.persist));
    }
    for (const e of out.effects) this.#execute(e);
    this.#publish();
  }

  #publish(): void {
    const v = this.view();
    const key = `${v.local} ${v.qualifier} ${v.remote} ${this.#state.lastReady}`;
    if (key === this.#lastView) return;
    if (this.#lastView.startsWith("SECOND") && v.local !== "SECOND") void this.#rfs?.leaveSecond();
    // A module that (re)starts waits for the wait rules' verdict: give it (once the step is over).
    if (v.local === "WAIT" && v.qualifier === "Transient") {
      queueMicrotask(() => this.#supervisor?.republish());
    }
    this.#lastView = key;
    this.d.onStateChange(v, this.#state.lastReady);
  }

  #execute(e: MirrorEffect): void {
    const now = Date.now();
    switch (e.kind) {
      case "log":
        this.d.log.append({ at: now, component: e.component, level: e.level, message: e.message });
        return;
      case "setResource":
        this.d.resources.set(e.name, e.value, { at: now, by: "heart" });
        return;
      case "setHeartbeatPayload":
        this.#heartbeats?.setState(e.payload);
        return;
      case "reply": {
        const r = this.#pending.get(e.commandId);
        this.#pending.delete(e.commandId);
        r?.({ ok: e.ok, error: e.error });
        return;
      }
      case "readyChanged":
        return; // published with the state view
      case "runScript":
        this.#scripts.runEffect(e, (ev) => this.#dispatch(ev));
        return;
      case "killScript":
        this.#scripts.kill(e.runId);
        return;
      case "startResync":
        if (this.#rfs) this.#rfs.secondaryResync(this.#syncPolicy(e.mode), e.since);
        else queueMicrotask(() => this.#dispatch({ kind: "resyncFinished" }));
        return;
      case "stopResync":
        this.#rfs?.abortResync();
        return;
    }
  }

  /**
   * `safekit rfssync full` (spec §7.2 sync policies): usersetting.rfssyncmode=full makes this node's next
   * reintegration a full copy, whatever the automaton would have chosen; it returns to "default" once that
   * reintegration completed (a failed or interrupted one keeps it).
   */
  #syncPolicy(mode: ResyncMode): ResyncMode {
    if (this.d.resources.get("usersetting.rfssyncmode")?.value !== "full" || mode === "full") return mode;
    this.d.log.append({
      at: Date.now(),
      component: "reintegre",
      level: "I",
      message: "Full reintegration requested by 'safekit rfssync full'",
    });
    return "full";
  }

  #syncPolicyDone(): void {
    if (this.d.resources.get("usersetting.rfssyncmode")?.value !== "full") return;
    this.d.resources.set("usersetting.rfssyncmode", "default", { at: Date.now(), by: "reintegre" });
  }

  loop(op: "incloop" | "resetloop" | "checkloop", handler?: string): number {
    if (!this.#supervisor) throw new Error("the module's detectors are not running");
    return this.#supervisor.loop(op, handler);
  }

  /** `safekit checker|errd on|off`, `errd enable|disable CLASS`. */
  setSwitch(name: string, value: string): void {
    if (name === "failover") this.#dispatch({ kind: "setFailover", on: value === "on" });
    else if (name === "checker" || name === "errd") {
      this.#supervisor?.setSwitch(name, value === "on");
      // With checkers off nobody asks the witnesses: takeovers must not wait for them.
      if (name === "checker" && hasSplitbrainChecker(this.d.config)) {
        this.#dispatch({ kind: "witnessGate", on: value === "on" });
      }
    } else if (name.startsWith("errdclass:")) {
      this.#supervisor?.enableErrdClass(name.slice(10), value === "on");
    }
  }

  /** `safekit rfsdiff`: on the primary, what the next reintegration of the secondary would copy. */
  rfsDiff(): Promise<ZoneSummary[]> {
    if (!this.#rfs) throw new NodeError(`module '${this.d.module}' has no <rfs>: nothing is replicated`);
    return this.#rfs.diff();
  }

  /**
   * rfs.rep_bandwidth / rfs.rei_bandwidth / rfs.netout_bandwidth (KB/s over the last 3 s, spec §7.2): on the
   * primary from its replication process's counters; 0 elsewhere. Written only when the value changes.
   */
  #sampleBandwidth(): void {
    if (!this.#rfs) return;
    const now = Date.now();
    if (now - this.#lastBandwidthAt < 1000) return;
    this.#lastBandwidthAt = now;
    const primary = this.#state.local === "PRIM" || this.#state.local === "ALONE";
    const st = primary ? this.#repStats : null;
    if (!st) {
      this.#repMeter.reset();
      this.#reiMeter.reset();
    }
    const rep = st ? this.#repMeter.sample(now, st.bytesSent) : 0;
    const rei = st ? this.#reiMeter.sample(now, st.reiBytes) : 0;
    for (
      const [name, v] of [["rfs.rep_bandwidth", rep], ["rfs.rei_bandwidth", rei], [
        "rfs.netout_bandwidth",
        rep + rei,
      ]] as const
    ) {
      if (this.d.resources.get(name)?.value !== String(v)) {
        this.d.resources.set(name, String(v), { at: now, by: "nfsadmin" });
      }
    }
  }

  /** <rfs syncat>: a holding secondary synchronises at the schedule or when rfs.syncat is set up. */
  #checkSyncat(): void {
    if (!this.#syncat) return;
    const now = Date.now();
    const due = this.#syncat.due(
      now,
      this.#state.syncatHold,
      this.d.resources.get("rfs.syncat")?.value as string | undefined,
      (next) =>
        this.d.log.append({
          at: now,
          component: "reintegre",
          level: "I",
          message: next === null
            ? "Scheduled synchronization (syncat): no next time in the schedule"
            : `Scheduled synchronization (syncat): next at ${new Date(next).toLocaleString("sv-SE")}`,
        }),
    );
    if (due) this.#dispatch({ kind: "syncatDue" });
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#tick);
    await this.#supervisor?.stop();
    this.#scripts.killAll();
    await this.#heartbeats?.close();
    await this.#connections?.stop();
    await this.#rfs?.close();
    for (const r of this.#pending.values()) r({ ok: false, error: "the node service is stopping" });
    this.#pending.clear();
  }
}

/** A <splitbrain> checker is configured: takeovers after a heartbeat loss wait for its witnesses. */
function hasSplitbrainChecker(cfg: ModuleConfig): boolean {
  return (cfg.check ?? []).some((c) => c.kind === "splitbrain");
}
