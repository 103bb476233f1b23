// Detection for one running module (spec §3.3, §4.10, §4.11, §5): its checkers and errd process monitor
// set resources; every `period` the failover machine evaluates the rules over them and asks for actions,
// which go to the module's automaton as commands carrying an identity, so maxloop counts them. It follows
// the module's scripts: `pre` checkers and errd classes start after prestart and stop before poststop,
// `prim`/`second`/`both` ones around start_*/stop_* (the runtime calls `scriptStarting`/`scriptEnded`).
import { join } from "node:path";
import {
  CheckerSet,
  DEFAULT_TIMEOUT_MS,
  initialIsolationState,
  type IsolationEvent,
  type IsolationState,
  isolationStep,
  peerView,
  type Probe,
  probeWithin,
  SPLITBRAIN_UPTODATE,
  witnessProbe,
} from "../checkers/mod.ts";
import type { CheckerWhen, ModuleConfig } from "../config/mod.ts";
import {
  buildRuleSet,
  type FailoverMachineState,
  failoverMachineStep,
  initialFailoverState,
  type RuleSet,
} from "../core/failover_rules/mod.ts";
import {
  type ControlAction,
  type MaxloopState,
  maxloopStep,
  restoreMaxloopState,
  STOPSTARTCOUNT_RESOURCE,
  STOPSTARTLOOP_RESOURCE,
} from "../core/maxloop.ts";
import { REBOOT_COMMAND_VARIABLE, rebootCommands } from "../core/maxloop_reboot.ts";
import { ErrdMonitor } from "../errd/mod.ts";
import type { ModuleLog, ResourceStore } from "../store/mod.ts";
import type { ScriptRunner } from "./script_runner.ts";

const ISOLATION_WATCH_MS = 250;

export type SupervisedCommand = { verb: string; by: string; identity?: string; rule?: string };

export type SupervisorDeps = {
  readonly module: string;
  readonly config: ModuleConfig;
  readonly resources: ResourceStore;
  readonly log: ModuleLog;
  /** The module's script environment (custom checkers, errd handlers); null without <user>. */
  readonly scripts: ScriptRunner | null;
  /** Sends a control command to the module's automaton. */
  command(c: SupervisedCommand): void;
  /** The wait rules' verdict changed: init, down (a wait rule fires) or up. */
  waitRules(status: "init" | "down" | "up", rule: string | null): void;
  /** The peer's resources (mirror, from heartbeats), for `remote.` rules; null when unknown. */
  remoteResources?(): ReadonlyMap<string, string> | null;
  /** <splitbrain>: the witnesses decided for the current loss of the peer (mirror: gates the takeover). */
  witnessVerdict?(reachable: boolean): void;
};

const SCRIPT_PHASE: Record<string, CheckerWhen> = {
  prestart: "pre",
  poststop: "pre",
  start_prim: "prim",
  stop_prim: "prim",
  start_second: "second",
  stop_second: "second",
  start_both: "both",
  stop_both: "both",
};

export class ModuleSupervisor {
  readonly ruleSet: RuleSet;
  #checkers: CheckerSet;
  #errd: ErrdMonitor | null;
  #machine: FailoverMachineState = initialFailoverState();
  #maxloop: MaxloopState;
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastWait = "";
  /** automatic_reboot asked for a reboot: it runs once the module has stopped (poststop ended). */
  #rebootPending = false;
  /** <splitbrain>: the witness question asked when the peer is lost, and its verdict (splitbrain.uptodate). */
  #witness: Probe | null = null;
  #isolation: IsolationState = initialIsolationState();
  #isolationTimer: ReturnType<typeof setInterval> | undefined;
  /** Between prestart (or an administrator's start) and poststop: a stopped module's rules do not act. */
  #started = false;
  /** `safekit checker off` pauses the splitbrain verdict too (it is a checker); the value stays as it was. */
  #checkersOn = true;
  #rebootFallback: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly d: SupervisorDeps, maxloop?: MaxloopState) {
    this.ruleSet = buildRuleSet(d.config, { file: "userconfig.xml" });
    // The counter survives node service restarts and the reboots of automatic_reboot (resource.db).
    this.#maxloop = maxloop ??
      restoreMaxloopState(this.#setting(STOPSTARTLOOP_RESOURCE), this.#setting(STOPSTARTCOUNT_RESOURCE));
    const env = d.scripts ?? { userBin: "/nonexistent", environment: () => ({}) };
    this.#checkers = new CheckerSet(
      d.config.check ?? [],
      (resource, value) => this.#setResource(resource, value, componentOf(resource)),
      {
        module: d.module,
        scripts: env,
        onModuleRestarted: () => this.#detector("stopstart", "modulecheck"),
        log: (m) => this.#log("I", "checker", m),
      },
    );
    const sb = (d.config.check ?? []).find((c) => c.kind === "splitbrain");
    if (sb?.kind === "splitbrain") {
      this.#witness = witnessProbe(sb.exec, sb.arg, {
        userBin: env.userBin,
        environment: () => env.environment(),
      });
    }
    this.#errd = d.config.errd && d.config.user
      ? new ErrdMonitor(d.config.errd, {
        onAction: (a) => this.#detector(a.action, "errd"),
        onResource: (r, v) => this.#setResource(r, v, "errd"),
        log: (level, m) => this.#log(level, "errd", m),
        scripts: env,
        initiallyOn: this.#setting("usersetting.errd") !== "off",
        listFile: d.scripts ? join(d.scripts.environment().SAFEUSERVAR, "errdlist") : undefined,
      })
      : null;
  }

  start(): void {
    this.#checkersOn = this.#setting("usersetting.checker") !== "off";
    void this.#checkers.setEnabled(this.#checkersOn);
    this.#errd?.start();
    this.#timer = setInterval(() => this.tick(Date.now()), this.ruleSet.periodMs);
    if (this.#witness) {
      // Its own quick loop: the isolated node must be told before the failover machine's next period.
      this.#setResource(SPLITBRAIN_UPTODATE, "init", "splitbraincheck");
      this.#isolationTimer = setInterval(() => this.#watchPeer(), ISOLATION_WATCH_MS);
    }
    // An engine is (re)built only for a stopped module: its rules act from its next prestart.
    this.#resetMachine();
  }

  #setting(name: string): string | undefined {
    return this.d.resources.get(name)?.value as string | undefined;
  }

  /** The module was started or stopped by an administrator: start deciding afresh. */
  reset(): void {
    this.#started = true;
    if (this.#witness) this.#isolate({ kind: "adminStart" });
    this.#resetMachine();
  }

  /** Feeds the heartbeat view to the isolation logic (only while the module runs: its checkers do too). */
  #watchPeer(): void {
    if (!this.#started || !this.#checkersOn) return;
    const heartbeats = (this.d.config.heart?.heartbeats ?? []).map((h) =>
      this.d.resources.get(h.resource)?.value as string | undefined
    );
    this.#isolate({ kind: "peer", view: peerView(heartbeats), at: Date.now() });
  }

  #isolate(event: IsolationEvent): void {
    const before = this.#isolation;
    const out = isolationStep(this.#isolation, event);
    this.#isolation = out.state;
    if (!before.decided && out.state.decided && out.state.lostAt !== null) {
      this.d.witnessVerdict?.(out.state.uptodate === "up");
    }
    for (const e of out.effects) {
      if (e.kind === "log") this.#log(e.level, "splitbraincheck", e.message);
      else if (e.kind === "uptodate") this.#setResource(SPLITBRAIN_UPTODATE, e.value, "splitbraincheck");
      else void this.#askWitness();
    }
  }

  async #askWitness(): Promise<void> {
    const startedAt = Date.now();
    const r = await probeWithin(this.#witness!, DEFAULT_TIMEOUT_MS);
    this.#isolate({ kind: "witness", answered: r.up, startedAt, detail: r.detail });
  }

  #resetMachine(): void {
    // A (re)started module's checkers have not run yet: their resources are `init` (spec §2.1), so a wait
    // rule on them holds the module in WAIT (Transient) until each has answered (or its script set it).
    const at = Date.now();
    for (const c of this.d.config.check ?? []) {
      this.d.resources.set(c.resource, "init", { at, by: "heart" });
    }
    this.#machine = failoverMachineStep(this.#machine, { kind: "reset" }, this.ruleSet).state;
    this.#lastWait = "";
    // Decide at once rather than a period later: without wait rules the module starts without delay.
    this.tick(Date.now());
  }

  /** Sends the current verdict again (the automaton forgot it when the module (re)started). */
  republish(): void {
    this.#lastWait = "";
    this.#publishWait(false);
  }

  /** Called before a script starts: a stop script ends its phase first. */
  async scriptStarting(name: string): Promise<void> {
    if (name === "prestart" && !this.#started) {
      // A start at boot or by a detector's stopstart (an administrator's went through reset()): decide now.
      this.#started = true;
      this.tick(Date.now());
    }
    if (name === "poststop") this.#started = false;
    const phase = SCRIPT_PHASE[name];
    if (!phase || !(name.startsWith("stop_") || name === "poststop")) return;
    this.#errd?.disableClass(phase);
    if (phase === "second") this.#errd?.disableClass("sec");
    await this.#checkers.phaseEnding(phase);
  }

  /** Called once a script ended: a start script opens its phase. */
  scriptEnded(name: string): void {
    if (name === "poststop" && this.#rebootPending) void this.#reboot();
    const phase = SCRIPT_PHASE[name];
    if (!phase || !(name.startsWith("start_") || name === "prestart")) return;
    this.#errd?.enableClass(phase);
    if (phase === "second") this.#errd?.enableClass("sec");
    void this.#checkers.phaseStarted(phase);
  }

  /** `safekit checker on|off`, `safekit errd on|off` (persisted as usersetting.* resources). */
  setSwitch(name: "checker" | "errd", on: boolean): void {
    this.#setResource(`usersetting.${name}`, on ? "on" : "off", "safeadmin");
    if (name === "checker") {
      this.#checkersOn = on;
      void this.#checkers.setEnabled(on);
    } else this.#errd?.setSwitch(on);
  }

  enableErrdClass(name: string, on: boolean): void {
    if (on) this.#errd?.enableClass(name);
    else this.#errd?.disableClass(name);
  }

  /** An administrator command (no identity) resets the maxloop counter (spec §2.2). */
  adminCommand(): void {
    this.#applyMaxloop({ kind: "action", action: "start" });
  }

  tick(now: number): void {
    // A stopped module has nothing to restart: its last resource values (a checker's down) must not keep
    // asking for actions, nor count toward maxloop.
    if (!this.#started) return;
    const local = new Map(this.d.resources.list().map((r) => [r.name, String(r.value)]));
    const out = failoverMachineStep(this.#machine, {
      kind: "tick",
      now,
      resources: { local, remote: this.d.remoteResources?.() ?? null },
    }, this.ruleSet);
    this.#machine = out.state;
    for (const e of out.effects) {
      if (e.kind === "assign") {
        this.#setResource(e.resource, e.value, `failover rule ${e.rule}`);
        this.#log("I", "heart", e.log);
      } else if (e.kind === "transition") {
        this.#log("E", "heart", e.log);
      } else if (e.action === "wait" || e.action === "wakeup") {
        this.#log(e.action === "wait" ? "C" : "E", "heart", e.log);
      } else {
        this.#detector(e.action, "failover", e.rule);
      }
    }
    this.#publishWait(false);
  }

  #publishWait(force: boolean): void {
    const m = this.#machine;
    const status = m.mode === "running" ? "up" : m.mode === "waiting" && !m.transient ? "down" : "init";
    const key = `${status} ${m.waitRule ?? ""}`;
    if (!force && key === this.#lastWait) return;
    this.#lastWait = key;
    this.d.waitRules(status, m.waitRule);
  }

  /**
   * A detector outside the supervisor (the replication runtime: FUSE server dead or not answering) asks for
   * an action; it counts toward maxloop like a checker's.
   */
  detected(action: "stopstart" | "restart" | "stop", identity: string): void {
    this.#detector(action, identity);
  }

  /** A detector asks for an action: maxloop decides whether it runs, or stops the module instead. */
  #detector(action: string, identity: string, rule?: string): void {
    // The server is going down: further detections would only count toward a maxloop the reboot resets.
    if (action === "noaction" || this.#rebootPending) return;
    if (this.#maxloopReplaces(action, rule ?? identity)) return;
    this.d.command({ verb: action, by: identity, identity: rule ?? identity, rule });
  }

  /**
   * A control command given with `-i identity` (`safekit restart|stopstart|swap -i <checker>`, spec §3.3,
   * §4.11): it counts in maxloop like the supervisor's own detections. "replaced" when maxloop stopped the
   * module (or automatic_reboot took over) instead: the runtime must not run the command then.
   */
  /**
   * Before a control command reaches the automaton: an administrator's (no identity) resets the maxloop
   * count; one given with -i (a checker's) counts toward it. Returns the refusal when maxloop stopped the
   * module instead (the stop itself logs "Action stop called by maxloop" or automatic_reboot's lines).
   */
  beforeCommand(verb: string, identity: string | undefined): string | null {
    if (!identity) {
      this.adminCommand();
      return null;
    }
    return this.identifiedCommand(verb, identity) === "replaced"
      ? `maxloop reached: module ${this.d.module} stopped instead of ${verb}`
      : null;
  }

  identifiedCommand(verb: string, identity: string): "run" | "replaced" {
    if (this.#rebootPending) return "replaced";
    return this.#maxloopReplaces(verb, identity) ? "replaced" : "run";
  }

  #maxloopReplaces(action: string, identity: string): boolean {
    const verdict = this.#applyMaxloop({ kind: "action", action: action as ControlAction, identity });
    if (verdict === "stop") {
      this.d.command({ verb: "stop", by: "maxloop" });
      return true;
    }
    if (verdict === "reboot") {
      // The module stops first (its scripts stop the application cleanly), then the server reboots.
      this.#rebootPending = true;
      this.d.command({ verb: "stop", by: "automatic_reboot" });
      clearTimeout(this.#rebootFallback);
      this.#rebootFallback = setTimeout(() => this.#reboot(), this.#rebootGraceMs());
      return true;
    }
    return false;
  }

  #applyMaxloop(event: Parameters<typeof maxloopStep>[1]): "allow" | "stop" | "reboot" {
    const out = maxloopStep(this.#maxloop, event, Date.now(), {
      maxLoop: this.d.config.maxLoop,
      loopIntervalMs: this.d.config.loopIntervalMs,
      automaticReboot: this.d.config.automaticReboot,
    });
    this.#saveMaxloop(out.state);
    let verdict: "allow" | "stop" | "reboot" = "allow";
    for (const e of out.effects) {
      if (e.kind === "stop") {
        verdict = "stop";
      } else if (e.kind === "reboot") {
        verdict = "reboot";
        this.#log("E", "heart", e.log);
      } else if (e.kind === "resource") {
        this.#setResource(e.name, String(e.value), "heart");
      }
    }
    return verdict;
  }

  #saveMaxloop(next: MaxloopState): void {
    if (next.count !== this.#maxloop.count) {
      this.d.resources.set(STOPSTARTCOUNT_RESOURCE, String(next.count), { at: Date.now(), by: "heart" });
    }
    this.#maxloop = next;
  }

  /** How long the module may take to stop before the reboot goes ahead anyway: its stop timeouts, plus margin. */
  #rebootGraceMs(): number {
    const u = this.d.config.user;
    return 2 * ((u?.niceStopTimeoutMs ?? 60_000) + (u?.forceStopTimeoutMs ?? 60_000)) + 30_000;
  }

  async #reboot(): Promise<void> {
    if (!this.#rebootPending) return;
    this.#rebootPending = false;
    clearTimeout(this.#rebootFallback);
    for (const argv of rebootCommands(Deno.env.get(REBOOT_COMMAND_VARIABLE), Deno.build.os)) {
      try {
        const out = await new Deno.Command(argv[0], {
          args: argv.slice(1),
          stdin: "null",
          stdout: "null",
          stderr: "piped",
        }).output();
        if (out.success) {
          this.#log("E", "heart", `Reboot requested by automatic_reboot: ${argv.join(" ")}`);
          return;
        }
        const why = new TextDecoder().decode(out.stderr).trim().split("\n")[0];
        this.#log(
          "E",
          "heart",
          `automatic_reboot: '${argv.join(" ")}' exited ${out.code}${why ? `: ${why}` : ""}`,
        );
      } catch (e) {
        this.#log(
          "E",
          "heart",
          `automatic_reboot: '${argv.join(" ")}' could not run: ${(e as Error).message}`,
        );
      }
    }
    this.#log("E", "heart", "automatic_reboot: the server was not rebooted; the module stays stopped");
  }

  /** `safekit incloop|resetloop|checkloop`: the exit code the command returns (spec §3.3). */
  loop(op: "incloop" | "resetloop" | "checkloop", handler?: string): number {
    const event = op === "incloop"
      ? { kind: "incloop" as const, handler: handler ?? "" }
      : op === "resetloop"
      ? { kind: "resetloop" as const, handler }
      : { kind: "checkloop" as const };
    const out = maxloopStep(this.#maxloop, event, Date.now(), {
      maxLoop: this.d.config.maxLoop,
      loopIntervalMs: this.d.config.loopIntervalMs,
      automaticReboot: this.d.config.automaticReboot,
    });
    this.#saveMaxloop(out.state);
    let code = 0;
    for (const e of out.effects) {
      if (e.kind === "result") code = e.code;
      else if (e.kind === "resource") this.#setResource(e.name, String(e.value), "heart");
    }
    return code;
  }

  get maxloopState(): MaxloopState {
    return this.#maxloop;
  }

  #setResource(resource: string, value: string, by: string): void {
    const at = Date.now();
    const { changed } = this.d.resources.set(resource, value, { at, by });
    if (changed) this.#log(value === "down" ? "C" : "I", by, `Resource ${resource} set to ${value} by ${by}`);
  }

  #log(level: "U" | "E" | "C" | "S" | "I" | "D", component: string, message: string): void {
    this.d.log.append({
      at: Date.now(),
      component: component.replace(/\|/g, "/").slice(0, 64),
      level,
      message,
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    clearTimeout(this.#rebootFallback);
    clearInterval(this.#isolationTimer);
    this.#errd?.stop();
    await this.#checkers.stopAll();
  }
}

function componentOf(resource: string): string {
  const cls = resource.split(".")[0];
  return ({
    tcp: "tcpcheck",
    ping: "pingcheck",
    intf: "intfcheck",
    ip: "ipcheck",
    module: "modulecheck",
    custom: "customscript",
    splitbrain: "splitbraincheck",
  } as Record<string, string>)[cls] ?? cls;
}

/** The events a supervisor sends to a module automaton; the mirror and farm automata both take them. */
export type SupervisorEvent =
  | {
    kind: "command";
    id: string;
    verb: never;
    by: string;
    identity?: string;
    rule?: string;
  }
  | { kind: "waitRules"; status: "init" | "down" | "up"; rule?: string };

/** Builds the supervisor of a runtime whose automaton takes SupervisorEvents. */
export function superviseModule(
  d: Pick<SupervisorDeps, "module" | "config" | "resources" | "log" | "scripts" | "witnessVerdict">,
  dispatch: (e: SupervisorEvent) => void,
  nextCommandId: () => string,
): ModuleSupervisor {
  return new ModuleSupervisor({
    ...d,
    command: (c) =>
      dispatch({
        kind: "command",
        id: nextCommandId(),
        verb: c.verb as never,
        by: c.by,
        identity: c.identity,
        rule: c.rule,
      }),
    waitRules: (status, rule) => dispatch({ kind: "waitRules", status, rule: rule ?? undefined }),
  });
}
