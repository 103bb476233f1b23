// The checkers of one module, started and stopped with the module's lifecycle (spec §4.11 `when`): `pre`
// after prestart until before poststop (every node, SECOND included), `prim` after start_prim until before
// stop_prim, `both` after start_both until before stop_both, `second` after start_second until before
// stop_second. <intf>, <module> and <splitbrain> have no `when` and run in `pre`. The global switch
// (`safekit checker off|on`, resource usersetting.checker) stops them all and starts again those whose
// phase is active. Every start creates a fresh checker, so its first result is reported again.
import type { Checker as CheckerConfig, CheckerWhen } from "../config/mod.ts";
import { type Checker, CHECKER_COMPONENT, type ReportResource } from "./checker.ts";
import { CustomChecker, type ScriptEnvironment } from "./custom_checker.ts";
import { intfChecker } from "./intf_checker.ts";
import { ipChecker } from "./ip_checker.ts";
import { moduleChecker } from "./module_checker.ts";
import { pingChecker, type PingMethod } from "./ping_checker.ts";
import { splitbrainChecker } from "./splitbrain_checker.ts";
import { tcpChecker } from "./tcp_checker.ts";

export type CheckerContext = {
  readonly module: string;
  /** The module's script environment: custom checkers (and a non-ping splitbrain exec) run with it. */
  readonly scripts: ScriptEnvironment;
  /** The other module of a <module> checker restarted or failed over: the runtime does a stopstart. */
  readonly onModuleRestarted?: (resource: string) => void;
  /** Information for the module log (custom checker restarts). */
  readonly log?: (message: string) => void;
  readonly pingMethod?: PingMethod;
};

export function checkerPhase(c: CheckerConfig): CheckerWhen {
  return "when" in c ? c.when : "pre";
}

/** The log component of a checker's resource, e.g. tcpcheck for tcp.web ("... set to down by tcpcheck"). */
export function componentOfResource(resource: string): string {
  const kind = resource.slice(0, resource.indexOf(".")) as keyof typeof CHECKER_COMPONENT;
  return CHECKER_COMPONENT[kind] ?? "checker";
}

export function createChecker(c: CheckerConfig, ctx: CheckerContext): Checker {
  switch (c.kind) {
    case "tcp":
      return tcpChecker(c.resource, c.to);
    case "ping":
      return pingChecker(c.resource, c.to, ctx.pingMethod);
    case "intf":
      return intfChecker(c.resource, c.localAddr);
    case "ip":
      return ipChecker(c.resource, c.to);
    case "custom":
      return new CustomChecker(c.resource, ctx.module, c.exec, c.arg, ctx.scripts, { log: ctx.log });
    case "module":
      return moduleChecker(c.resource, c.name, c.to, {
        onRestarted: ctx.onModuleRestarted,
        // secure="on": HTTPS to the other node, trusting the cluster's CA (SAFE/web/conf/cacert.crt).
        caCertFile: c.to.secure ? `${ctx.scripts.environment().SAFE}/web/conf/cacert.crt` : undefined,
      });
    case "splitbrain":
      return splitbrainChecker(c.resource, c.exec, c.arg, {
        userBin: ctx.scripts.userBin,
        pingMethod: ctx.pingMethod,
        environment: () => ctx.scripts.environment(),
      });
  }
}

export type CheckerFactory = (c: CheckerConfig, ctx: CheckerContext) => Checker;

export class CheckerSet {
  #configs: readonly CheckerConfig[];
  #phases = new Set<CheckerWhen>();
  #enabled = true;
  #running = new Map<string, { config: CheckerConfig; checker: Checker }>();
  // Changes apply one after the other, so a checker is never started while its predecessor still stops.
  #queue: Promise<void> = Promise.resolve();

  constructor(
    configs: readonly CheckerConfig[],
    private readonly report: ReportResource,
    private readonly ctx: CheckerContext,
    private readonly create: CheckerFactory = createChecker,
  ) {
    this.#configs = configs;
  }

  /** Resources whose checker runs now. */
  get running(): string[] {
    return [...this.#running.keys()];
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  /** The scripts that open `phase` have run (prestart for pre, start_prim for prim...). */
  phaseStarted(phase: CheckerWhen): Promise<void> {
    return this.#apply(() => this.#phases.add(phase));
  }

  /** The scripts that close `phase` are about to run: resolves once its checkers have stopped. */
  phaseEnding(phase: CheckerWhen): Promise<void> {
    return this.#apply(() => this.#phases.delete(phase));
  }

  /** `safekit checker on|off`. */
  setEnabled(on: boolean): Promise<void> {
    return this.#apply(() => this.#enabled = on);
  }

  /** Dynamic configuration: changed or removed checkers stop, new or changed ones start if their phase is on. */
  reconfigure(configs: readonly CheckerConfig[]): Promise<void> {
    return this.#apply(() => {
      this.#configs = configs;
    });
  }

  /** Module stop: every phase ends. */
  stopAll(): Promise<void> {
    return this.#apply(() => this.#phases.clear());
  }

  #apply(change: () => void): Promise<void> {
    this.#queue = this.#queue.then(async () => {
      change();
      const wanted = new Map(
        this.#configs.filter((c) => this.#enabled && this.#phases.has(checkerPhase(c))).map((
          c,
        ) => [c.resource, c]),
      );
      const stopping: Promise<void>[] = [];
      for (const [resource, r] of this.#running) {
        const w = wanted.get(resource);
        if (w && JSON.stringify(w) === JSON.stringify(r.config)) continue;
        this.#running.delete(resource);
        stopping.push(r.checker.stop());
      }
      await Promise.allSettled(stopping);
      for (const [resource, config] of wanted) {
        if (this.#running.has(resource)) continue;
        const checker = this.create(config, this.ctx);
        this.#running.set(resource, { config, checker });
        checker.start(this.report);
      }
    });
    return this.#queue;
  }
}
