// The shell around one farm or light module: feeds the pure farm automaton (core/farm_automaton.ts) with
// commands, the farm membership view, script completions and ticks, and executes its effects. Farm
// membership is the cluster membership protocol run on the module's own port, 4803+(id−1)×3 (or
// <farm port>), over the module's <farm><lan>s, with its own frame kind; a node is a member only while
// the module is UP (joinFarm / leaveFarm). Without <vip> this is SafeKit's cloud mode: a cloud load
// balancer polls ready.txt, which answers 200 in UP Ready.
import { type ClusterConfig, farmPort, type ModuleConfig } from "../config/mod.ts";
import {
  assignBuckets,
  type BucketAssignment,
  type FarmGroup,
  groupPowers,
  preferenceLists,
} from "../core/farm_buckets.ts";
import { initialFarmState, step } from "../core/farm_automaton.ts";
import type { FarmEffect, FarmEvent, FarmState, FarmVerb } from "../core/farm_types.ts";
import { MembershipService } from "../heart/mod.ts";
import { join } from "node:path";
import { atomicWriteFileSync } from "../platform/atomic_write.ts";
import type { NodePaths } from "../platform/node_paths.ts";
import type { ModuleLog, ResourceStore } from "../store/mod.ts";
import type { ModuleStateView } from "./module_states.ts";
import { NodeError } from "./node_error.ts";
import { AutomatonScripts } from "./script_runner.ts";
import { type ModuleSupervisor, superviseModule } from "./module_supervisor.ts";
import { FarmVips, VipConnectionCounter } from "./vip_runtime.ts";

/** Commands that start the module: the failover machine decides afresh (WAIT Transient while init). */
const STARTS = new Set(["start", "prim", "second", "primforce", "secondforce", "stopstart"]);

const TICK_MS = 200;
/** Frame kind of farm membership pulses (cluster membership is 1, mirror heartbeats 2). */
export const FARM_FRAME_KIND = 3;

export type FarmRuntimeDeps = {
  readonly paths: NodePaths;
  readonly module: string;
  readonly id: number;
  readonly config: ModuleConfig;
  readonly cluster: ClusterConfig | null;
  readonly localNode: string;
  readonly key: Uint8Array | null;
  readonly log: ModuleLog;
  readonly resources: ResourceStore;
  onStateChange(view: ModuleStateView): void;
};

/** One load-balancing group as this node sees it (GET /modules/{module}/farm, `safekit -r vip_if_ctrl -l`). */
export type FarmGroupBuckets = {
  /** the group's name and the power of every node that may serve it */
  readonly group: FarmGroup;
  /** the owner of each of the 256 buckets for the membership this node last applied */
  readonly assignment: BucketAssignment;
  /** the buckets this node gave its filter */
  readonly local: readonly number[];
};

/**
 * Every group's bucket owners, rebuilt from the automaton state: the assignment is a pure function of the
 * group and the membership (core/farm_buckets.ts), so the view every node applied is the one computed here.
 * Empty membership (module stopped or not yet joined): no owner at all.
 */
export function farmBucketsView(s: FarmState): FarmGroupBuckets[] {
  return s.config.groups.map((group) => {
    const v = s.groupViews[group.name] ?? { members: [], buckets: [] };
    return { group, assignment: assignBuckets(group, v.members), local: v.buckets };
  });
}

/** The farm membership "cluster": the module's lans, its port and timers (spec §4.5). */
export function farmMembershipCluster(cluster: ClusterConfig, cfg: ModuleConfig, id: number) {
  const farm = cfg.farm;
  if (!farm) throw new NodeError("a farm module needs a <farm> element with its lans");
  const lanNames = new Set(farm.lans.map((l) => l.name));
  return {
    port: farmPort(id, farm.port),
    pulseMs: farm.pulseMs,
    mlostCount: farm.mlostCount,
    slostCount: farm.slostCount,
    lans: cluster.lans.filter((l) => lanNames.has(l.name)),
  };
}

export class FarmRuntime {
  #state: FarmState;
  #scripts: AutomatonScripts;
  #membership: MembershipService | null = null;
  #membershipOp: Promise<void> = Promise.resolve();
  #pending = new Map<string, (r: { ok: boolean; error?: string }) => void>();
  #tick: ReturnType<typeof setInterval> | undefined;
  #nextCommand = 1;
  #lastView = "";
  #closed = false;
  #supervisor: ModuleSupervisor | null = null;
  #vips: FarmVips | null;
  #connections: VipConnectionCounter | null;
  #net: Promise<void> = Promise.resolve();

  constructor(private readonly d: FarmRuntimeDeps) {
    const mode = d.config.mode === "light" ? "light" : "farm";
    if (mode === "farm" && (!d.cluster || !d.key)) {
      throw new NodeError(
        "a farm module needs the cluster configuration and key (run 'safekit cluster config')",
      );
    }
    const nodes = mode === "farm" && d.cluster
      ? farmMembershipCluster(d.cluster, d.config, d.id).lans.flatMap((l) => l.nodes.map((n) => n.name))
      : [];
    const clusterNodes = [...new Set(nodes)].sort();
    this.#state = initialFarmState({
      node: d.localNode,
      mode,
      groups: mode === "farm"
        ? (d.config.vip?.loadBalancing ?? []).map((g) => ({
          name: g.name,
          powers: groupPowers(clusterNodes, g.hosts.length ? g.hosts : undefined),
        }))
        : [],
      vip: mode === "farm" && !!d.config.vip,
      scriptcontrol: d.config.vip?.scriptControl ?? false,
      // The module supervisor always gives the failover machine's verdict (at once when it starts).
      waitRules: true,
    });
    const vipLog = (level: "E" | "I" | "C", message: string) =>
      d.log.append({ at: Date.now(), component: "vipplug", level, message });
    this.#vips = d.config.vip && mode === "farm" ? new FarmVips(d.module, d.config.vip, vipLog) : null;
    this.#connections = d.config.vip && mode === "farm"
      ? new VipConnectionCounter(
        d.config.vip,
        (name, value) => d.resources.set(name, value, { at: Date.now(), by: "vipd" }),
        vipLog,
      )
      : null;
    this.#scripts = new AutomatonScripts(d.paths, d.module, d.config.user, {
      before: async (name) => {
        await this.#supervisor?.scriptStarting(name);
        await this.#net; // traffic opened (openTraffic comes just before start_both)
      },
      after: async (name, force) => {
        if (name === "stop_both" && force) await (this.#net = this.#net.then(() => this.#vips?.remove()));
        this.#supervisor?.scriptEnded(name);
      },
    });
  }

  start(atBoot = false): Promise<void> {
    // The preference lists of a weighted group cost up to a few hundred ms (once per configuration): pay
    // it now rather than on the first membership change.
    for (const g of this.#state.config.groups) preferenceLists(g);
    this.#connections?.start();
    this.#tick = setInterval(() => this.#dispatch({ kind: "tick" }), TICK_MS);
    this.#supervisor = superviseModule(
      {
        module: this.d.module,
        config: this.d.config,
        resources: this.d.resources,
        log: this.d.log,
        scripts: this.#scripts.runner,
      },
      (e) => this.#dispatch(e),
      () => `c${this.#nextCommand++}`,
    );
    this.#supervisor.start();
    this.#publish();
    const boot = this.d.config.boot;
    const legacyOn = this.d.resources.get("usersetting.boot")?.value === "on";
    if (
      atBoot && (boot === "on" || (boot === "auto" && this.#wasRunning()) || (boot === "ignore" && legacyOn))
    ) {
      // The farm automaton has no boot event: a boot start is a start "called at boot time".
      setTimeout(() => {
        const id = `c${this.#nextCommand++}`;
        this.#dispatch({ kind: "command", id, verb: "start", by: "SYSTEM", atBoot: true });
      }, this.d.config.bootDelayMs);
    }
    return Promise.resolve();
  }

  get #factsFile(): string {
    return join(this.d.paths.moduleVar(this.d.module), "farm_facts.json");
  }

  /** boot="auto": whether the module was running when the node service last stopped. */
  #wasRunning(): boolean {
    try {
      return JSON.parse(Deno.readTextFileSync(this.#factsFile)).wasRunning === true;
    } catch {
      return false;
    }
  }

  /** Counters for /metrics. */
  metrics() {
    return { membership: this.#membership?.counters(), scripts: this.#scripts.stats };
  }

  view(): ModuleStateView {
    return { local: this.#state.local, qualifier: this.#state.qual };
  }

  /** The load-balancing groups' buckets (read-only; see farmBucketsView). */
  bucketsView(): FarmGroupBuckets[] {
    return farmBucketsView(this.#state);
  }

  command(
    verb: string,
    by: string,
    opts: { identity?: string } = {},
  ): Promise<{ ok: boolean; error?: string }> {
    if (this.#closed) return Promise.resolve({ ok: false, error: "the module is being reconfigured" });
    const refused = this.#supervisor?.beforeCommand(verb, opts.identity);
    if (refused) return Promise.resolve({ ok: false, error: refused });
    const id = `c${this.#nextCommand++}`;
    const answer = new Promise<{ ok: boolean; error?: string }>((resolve) => this.#pending.set(id, resolve));
    this.#dispatch({ kind: "command", id, verb: verb as FarmVerb, by, identity: opts.identity });
    // After the command: its start resets the automaton's wait status, so the verdict must follow it.
    if (STARTS.has(verb)) this.#supervisor?.reset();
    return answer;
  }

  #dispatch(event: FarmEvent): void {
    if (this.#closed) return;
    const out = step(this.#state, event, Date.now());
    this.#state = out.state;
    for (const e of out.effects) this.#execute(e);
    this.#publish();
  }

  #publish(): void {
    const v = this.view();
    const key = `${v.local} ${v.qualifier}`;
    if (key === this.#lastView) return;
    // A module that (re)starts waits for the wait rules' verdict: give it (once the step is over).
    if (v.local === "WAIT" && v.qualifier === "Transient") {
      queueMicrotask(() => this.#supervisor?.republish());
    }
    const wasStopped = this.#lastView === "" || this.#lastView.startsWith("STOP");
    this.#lastView = key;
    // Persisted only when the module moves between stopped and running (boot="auto" needs it).
    if (wasStopped !== (v.local === "STOP") && !this.#closed) {
      atomicWriteFileSync(this.#factsFile, JSON.stringify({ wasRunning: v.local !== "STOP" }));
    }
    this.d.onStateChange(v);
  }

  #execute(e: FarmEffect): void {
    const now = Date.now();
    switch (e.kind) {
      case "log":
        this.d.log.append({ at: now, component: e.component, level: e.level, message: e.message });
        return;
      case "setResource":
        this.d.resources.set(e.name, e.value, { at: now, by: "vipd" });
        return;
      case "reply": {
        const r = this.#pending.get(e.commandId);
        this.#pending.delete(e.commandId);
        r?.({ ok: e.ok, error: e.error });
        return;
      }
      case "runScript":
        this.#scripts.runEffect(e, (ev) => this.#dispatch(ev));
        return;
      case "killScript":
        this.#scripts.kill(e.runId);
        return;
      case "joinFarm":
        this.#membershipOp = this.#membershipOp.then(() => this.#join());
        return;
      case "leaveFarm":
        this.#membershipOp = this.#membershipOp.then(() => this.#leave());
        return;
      // Network changes run one after another, in the automaton's order (src/daemon/vip_runtime.ts).
      case "openTraffic":
        this.#net = this.#net.then(() => this.#vips?.open());
        return;
      case "closeTraffic":
        this.#net = this.#net.then(() => this.#vips?.close());
        return;
      case "setBuckets":
        this.#net = this.#net.then(() => this.#vips?.setBuckets(e.group, e.buckets));
        return;
      case "readyChanged":
        return;
    }
  }

  async #join(): Promise<void> {
    if (this.#membership || this.#closed || !this.d.cluster || !this.d.key) return;
    try {
      const m = await MembershipService.openOverUdp({
        local: this.d.localNode,
        key: this.d.key,
        cluster: farmMembershipCluster(this.d.cluster, this.d.config, this.d.id),
        frameKind: FARM_FRAME_KIND,
      });
      this.#membership = m;
      m.onChange((c) => {
        if (c.kind === "viewChanged") this.#dispatch({ kind: "membership", members: [...c.view] });
      });
      this.#dispatch({ kind: "membership", members: [...m.view()] });
    } catch (e) {
      this.d.log.append({
        at: Date.now(),
        component: "vipd",
        level: "E",
        message: `farm membership cannot start: ${(e as Error).message}`,
      });
    }
  }

  async #leave(): Promise<void> {
    const m = this.#membership;
    this.#membership = null;
    await m?.close();
    this.#dispatch({ kind: "membership", members: [] });
  }

  loop(op: "incloop" | "resetloop" | "checkloop", handler?: string): number {
    if (!this.#supervisor) throw new Error("the module's detectors are not running");
    return this.#supervisor.loop(op, handler);
  }

  /** `safekit checker|errd on|off`, `errd enable|disable CLASS`. */
  setSwitch(name: string, value: string): void {
    if (name === "checker" || name === "errd") this.#supervisor?.setSwitch(name, value === "on");
    else if (name.startsWith("errdclass:")) this.#supervisor?.enableErrdClass(name.slice(10), value === "on");
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#tick);
    await this.#connections?.stop();
    await this.#supervisor?.stop();
    this.#scripts.killAll();
    await this.#membershipOp;
    await this.#membership?.close();
    this.#membership = null;
    for (const r of this.#pending.values()) r({ ok: false, error: "the node service is stopping" });
    this.#pending.clear();
  }
}
