// Typed form of userconfig.xml (spec §4.2–4.12). Times are milliseconds. Optional sections are
// undefined when the element is absent (absence has meaning: no <user> means no script runs).

import type { SourcePosition } from "./source_position.ts";

export type ModuleMode = "mirror" | "farm" | "light";
export type BootMode = "on" | "off" | "auto" | "ignore";
export type DefaultPrim =
  | { readonly kind: "alone" }
  | { readonly kind: "lastprim" }
  | { readonly kind: "node"; readonly node: string; readonly at: SourcePosition };

export type Macro = { readonly name: string; readonly value: string };

export type Heartbeat = {
  /** Cluster lan name (absent only in the pre-7.2 form with <server> children). */
  readonly name?: string;
  readonly ident?: string;
  /** heartbeat.<ident>, else heartbeat.<name>. */
  readonly resource: string;
  readonly pulseMs: number;
  readonly timeoutMs: number;
  /** Pre-7.2 form: peer addresses listed in the heartbeat itself. */
  readonly legacyServers: readonly string[];
  readonly at: SourcePosition;
};

export type HeartConfig = {
  readonly port?: number;
  readonly pulseMs: number;
  readonly timeoutMs: number;
  readonly permanentArp: boolean;
  readonly heartbeats: readonly Heartbeat[];
  /** Legacy <heart><server addr/></heart> form; never mixed with <heartbeat>. */
  readonly legacyServers: readonly string[];
};

export type FarmConfig = {
  readonly port?: number;
  readonly pulseMs: number;
  readonly mlostCount: number;
  readonly slostCount: number;
  readonly lans: readonly { readonly name: string; readonly at: SourcePosition }[];
  /** Legacy <node name addr/> form. */
  readonly legacyNodes: readonly { readonly name: string; readonly addr: string }[];
};

export type VirtualAddr = {
  readonly addr: string;
  readonly where: "alias" | "one_side_alias" | "one_side";
  readonly check: boolean;
  readonly connections: boolean;
  readonly netmask?: string;
};

export type VipInterface = {
  readonly check: boolean;
  readonly arpReroute: boolean;
  readonly arpIntervalMs: number;
  readonly arpElapseMs: number;
  readonly name?: string;
  /** Mirror: <real_interface>; farm: <virtual_interface>. */
  readonly kind: "real" | "virtual";
  readonly virtualInterfaceType?: "vmac_directed" | "vmac_invisible";
  readonly virtualMac?: string;
  readonly virtualAddrs: readonly VirtualAddr[];
};

export type LoadBalancingRule = {
  readonly virtualAddr: string; // "*" = every VIP
  readonly port: number | "*";
  readonly proto: "tcp" | "udp" | "arp";
  readonly filter: "on_addr" | "on_port" | "on_ipid";
};

export type LoadBalancingGroup = {
  readonly name: string;
  /** Empty: every node gets an equal share. */
  readonly hosts: readonly { readonly name: string; readonly power: number; readonly at: SourcePosition }[];
  readonly rules: readonly LoadBalancingRule[];
};

export type VipConfig = {
  readonly tcpReset: boolean;
  readonly scriptControl: boolean;
  readonly interfaces: readonly VipInterface[];
  readonly loadBalancing: readonly LoadBalancingGroup[];
};

export type ReplicatedDir = {
  readonly dir: string;
  readonly readOnly: boolean;
  readonly toCheck: readonly string[];
  readonly notReplicatedPaths: readonly string[];
  /** POSIX ERE; a leading '!' means "replicate only". */
  readonly notReplicatedRegexps: readonly string[];
};

export type RfsConfig = {
  readonly acl: boolean;
  readonly async: "second" | "none";
  readonly ioTimeoutMs: number;
  readonly roFlags: number;
  readonly lockTimeoutMs: number;
  readonly sendTimeoutMs: number;
  readonly nbRei: number;
  readonly reiPacketSize: number;
  readonly ruZoneBlockSize: number;
  readonly packetSize?: number;
  readonly namespacePolicy: number;
  readonly reiTimeoutMs: number;
  readonly reiCommit: number;
  readonly reiDetail: boolean;
  readonly allocThreshold: number;
  readonly nbRemConn: number;
  readonly checkTimeMs: number;
  readonly checkIntervalMs: number;
  readonly nfsboxOptions?: "cross" | "nocross";
  readonly scripts: boolean;
  /** KB/s cap for reintegration; undefined = unlimited. */
  readonly reiAllowedBandwidth?: number;
  readonly syncDeltaMs: number;
  readonly syncAt?: string;
  readonly mountOverSuffix: string;
  /** Legacy 7.x attribute, kept for information. */
  readonly mountOver?: boolean;
  /** FUSE read passthrough where the kernel offers it (ours; default on). */
  readonly readPassthrough: boolean;
  /** The kernel's writeback cache: fsync/close are the replication boundary (ours; default off). */
  readonly writebackCache: boolean;
  readonly replicated: readonly ReplicatedDir[];
  /** Legacy <flow name>: the lan carrying replication. */
  readonly flow?: { readonly name: string; readonly at: SourcePosition };
};

export type UserConfig = {
  readonly niceStopTimeoutMs: number;
  readonly forceStopTimeoutMs: number;
  readonly logging: "userlog" | "none";
  readonly userLogSizeKb: number;
  readonly vars: readonly { readonly name: string; readonly value: string }[];
};

export type VirtualHostName = {
  readonly name: string;
  readonly envFile: string;
  readonly when: "prim" | "second" | "both";
};

export type ProcAction =
  | { readonly kind: "stopstart" | "restart" | "stop" | "noaction" }
  | { readonly kind: "handler"; readonly exe: string };

export type ErrdProc = {
  readonly name: string;
  readonly service: boolean;
  readonly nameRegex?: string;
  readonly argRegex?: string;
  readonly atLeast: number;
  readonly atMax: number;
  readonly action: ProcAction;
  readonly restartServices: readonly string[];
  readonly class: string;
  readonly startAfter?: number;
  /** proc.<name> */
  readonly resource: string;
};

export type ErrdConfig = { readonly pollTimerMs: number; readonly procs: readonly ErrdProc[] };

export type CheckerAction = "stop" | "stopstart" | "restart" | "wait" | "noaction";
export type CheckerWhen = "pre" | "prim" | "second" | "both";

export type CheckTarget = {
  readonly addr: string;
  readonly port?: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
};

export type Checker =
  | {
    readonly kind: "tcp";
    readonly ident: string;
    readonly when: CheckerWhen;
    readonly action: CheckerAction;
    readonly to: CheckTarget & { readonly port: number };
    readonly resource: string;
  }
  | {
    readonly kind: "ping";
    readonly ident: string;
    readonly when: CheckerWhen;
    readonly action: CheckerAction;
    readonly to: CheckTarget;
    readonly resource: string;
  }
  | {
    readonly kind: "intf";
    readonly ident: string;
    readonly when: "pre";
    readonly localAddr: string;
    readonly resource: string;
  }
  | {
    readonly kind: "ip";
    readonly ident: string;
    readonly when: "prim" | "both";
    readonly to: CheckTarget;
    readonly resource: string;
  }
  | {
    readonly kind: "custom";
    readonly ident: string;
    readonly when: CheckerWhen;
    readonly exec: string;
    readonly arg?: string;
    readonly action: CheckerAction;
    readonly resource: string;
  }
  | {
    readonly kind: "module";
    readonly ident?: string;
    readonly name: string;
    readonly to: CheckTarget & { readonly port: number; readonly secure: boolean };
    readonly resource: string;
  }
  | {
    readonly kind: "splitbrain";
    readonly ident: string;
    readonly exec: string;
    readonly arg: string;
    readonly resource: string;
  };

export type FailoverRuleSection = {
  /** The CDATA text, verbatim (after macro expansion). */
  readonly text: string;
  /** Position of the first character of the text, for rule-parser error messages. */
  readonly line: number;
  readonly column: number;
  readonly language: "safekit" | "lua";
};

export type FailoverConfig = {
  readonly extends: boolean;
  readonly periodMs: number;
  readonly handleTimeMs: number;
  readonly sections: readonly FailoverRuleSection[];
};

export type ModuleConfig = {
  readonly file: string;
  readonly mode: ModuleMode;
  readonly boot: BootMode;
  readonly bootDelayMs: number;
  /** Mirror only; true elsewhere. */
  readonly failover: boolean;
  /** Mirror only; alone elsewhere. */
  readonly defaultPrim: DefaultPrim;
  readonly maxLoop: number;
  /** 0 disables maxloop. */
  readonly loopIntervalMs: number;
  readonly automaticReboot: boolean;
  readonly macros: readonly Macro[];
  readonly heart?: HeartConfig;
  readonly farm?: FarmConfig;
  readonly vip?: VipConfig;
  readonly rfs?: RfsConfig;
  /** Absent: no script is executed. */
  readonly user?: UserConfig;
  readonly vhost?: readonly VirtualHostName[];
  readonly errd?: ErrdConfig;
  readonly check?: readonly Checker[];
  readonly failoverRules?: FailoverConfig;
  /** Obsolete constructs accepted and ignored, and unresolved %NAME% references. */
  readonly warnings: readonly string[];
};
