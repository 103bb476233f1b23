// Types of the farm (and light) module automaton of ONE node; see farm_automaton.ts for the rules.

import type { FarmGroup } from "./farm_buckets.ts";

export type FarmLocalState = "STOP" | "WAIT" | "UP";
export type FarmQualifier = "NotReady" | "Transient" | "Ready";
export type FarmScriptName = "prestart" | "start_both" | "stop_both" | "poststop" | "transition";
export type ScriptArgs = readonly [string, string, string];

export type FarmConfig = {
  readonly node: string;
  /** "light": the same automaton without membership, buckets nor VIP traffic (spec §2.3) */
  readonly mode: "farm" | "light";
  /** `<loadbalancing_list>` groups with the power of every node (farm_buckets.groupPowers) */
  readonly groups: readonly FarmGroup[];
  /** a `<vip>` is configured: VIP traffic is opened and closed around start_both / stop_both */
  readonly vip: boolean;
  /** vip@scriptcontrol="on": the scripts open and close traffic themselves (saferpc_send vipd SETGROUPS) */
  readonly scriptcontrol: boolean;
  /** the module has wait rules: after prestart it stays WAIT Transient until they are evaluated */
  readonly waitRules: boolean;
};

/** Verbs a user may send; the mirror-only ones are refused with a precise message. */
export type FarmVerb =
  | "start"
  | "stop"
  | "restart"
  | "stopstart"
  | "forcestop"
  | "shutdown"
  | "swap"
  | "prim"
  | "second"
  | "primforce"
  | "secondforce";

export type FarmCommand = {
  readonly kind: "command";
  readonly id: string;
  readonly verb: FarmVerb;
  /** who called it, as logged: "root", "SYSTEM", "admin@1.2.3.4", "maxloop", "errd"... */
  readonly by: string;
  /** -i identity (checkers); maxloop counting is done by the maxloop automaton */
  readonly identity?: string;
  /** the node service starts a boot="on" module: logged `Action start called at boot time` */
  readonly atBoot?: boolean;
  /** set when the failover machine sends it: logged `Action <verb> from failover rule <rule>` */
  readonly rule?: string;
};

export type FarmEvent =
  | FarmCommand
  /** the farm membership protocol's view: names of the nodes in the farm, local included once joined */
  | { readonly kind: "membership"; readonly members: readonly string[] }
  /**
   * the failover machine's verdict on the wait rules: "init" while one of their resources is init,
   * "down" when a wait rule applies (its name), "up" when none does (Implicit_wakeup)
   */
  | { readonly kind: "waitRules"; readonly status: "init" | "down" | "up"; readonly rule?: string }
  | {
    readonly kind: "scriptFinished";
    readonly script: FarmScriptName;
    readonly runId?: number;
    readonly exitCode: number;
    readonly timedOut: boolean;
  }
  | { readonly kind: "tick" };

export type LogLevel = "U" | "E" | "C" | "S" | "I" | "D";

export type FarmEffect =
  | {
    readonly kind: "runScript";
    readonly name: FarmScriptName;
    readonly runId: number;
    readonly args: ScriptArgs;
    readonly force?: boolean;
  }
  | { readonly kind: "killScript"; readonly name: FarmScriptName; readonly runId: number }
  | { readonly kind: "log"; readonly component: string; readonly level: LogLevel; readonly message: string }
  | { readonly kind: "setResource"; readonly name: string; readonly value: string }
  | { readonly kind: "reply"; readonly commandId: string; readonly ok: boolean; readonly error?: string }
  | { readonly kind: "readyChanged"; readonly ready: boolean }
  /** the membership protocol must announce (join) or withdraw (leave) this node */
  | { readonly kind: "joinFarm" }
  | { readonly kind: "leaveFarm" }
  /** VIP traffic of all groups (what `saferpc_send vipd SETGROUPS all all all|none none none` does) */
  | { readonly kind: "openTraffic" }
  | { readonly kind: "closeTraffic" }
  /** the buckets this node accepts for a group, for the network filter */
  | { readonly kind: "setBuckets"; readonly group: string; readonly buckets: readonly number[] };

/** One step of a job: a script call, or a VIP/membership action done between scripts. */
export type JobStep =
  | {
    readonly kind: "script";
    readonly name: FarmScriptName;
    readonly args: ScriptArgs;
    readonly force: boolean;
  }
  | { readonly kind: "traffic"; readonly open: boolean }
  | { readonly kind: "farm"; readonly join: boolean };

export type FarmContinuation =
  | { readonly kind: "started" } // prestart done: evaluate the wait rules
  | { readonly kind: "enter"; readonly state: FarmLocalState; readonly qual: FarmQualifier }
  | { readonly kind: "stopped"; readonly restart: boolean };

export type FarmJob = {
  readonly action: string;
  readonly pending: readonly JobStep[];
  readonly running: { readonly name: FarmScriptName; readonly runId: number } | null;
  readonly then: FarmContinuation;
};

export type FarmState = {
  readonly config: FarmConfig;
  readonly local: FarmLocalState;
  readonly qual: FarmQualifier;
  readonly job: FarmJob | null;
  readonly nextRunId: number;
  /** stop-like command received during an action: applied when it ends */
  readonly deferred: FarmCommand | null;
  /** start_both was launched and no forced stop_both has run since: the application may be running */
  readonly appStarted: boolean;
  readonly trafficOpen: boolean;
  readonly joined: boolean;
  readonly waitStatus: "init" | "down" | "up";
  readonly waitRule: string | null;
  /** last view from the membership protocol (sorted) */
  readonly members: readonly string[];
  /** per group: the membership and load last logged, and the buckets last given to the filter */
  readonly groupViews: Readonly<Record<string, GroupView>>;
  readonly lastReady: boolean;
};

export type GroupView = { readonly members: readonly string[]; readonly buckets: readonly number[] };

export type FarmStepResult = { readonly state: FarmState; readonly effects: FarmEffect[] };
