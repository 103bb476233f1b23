// Types of the mirror-module automaton: one node's view of a two-node mirror module.
// Everything the automaton decides on is in these values; see mirror_automaton.ts for the rules.

export type LocalStateName = "STOP" | "WAIT" | "ALONE" | "PRIM" | "SECOND";
export type Qualifier = "NotReady" | "Transient" | "Ready";
export type RemoteStateName = LocalStateName | "UNKNOWN";
export type RemoteQualifier = Qualifier | "Unknown";

export type ScriptName =
  | "prestart"
  | "start_prim"
  | "stop_prim"
  | "start_second"
  | "stop_second"
  | "start_sec"
  | "stop_sec"
  | "start_both"
  | "stop_both"
  | "poststop"
  | "transition";

export type DefaultPrim = { readonly kind: "alone" } | { readonly kind: "lastprim" } | {
  readonly kind: "node";
  readonly node: string;
};

export type MirrorConfig = {
  readonly node: string;
  readonly peer: string;
  /** heartbeat idents (resource heartbeat.<ident>); all lost => peer lost */
  readonly heartbeats: readonly string[];
  /** the module has <rfs>: a secondary must resynchronize before it is Ready */
  readonly replicated: boolean;
  readonly failover: "on" | "off";
  readonly defaultprim: DefaultPrim;
  /** spec §2.2: automatic sync refused when synctimestamps differ by more (90 s) */
  readonly maxSyncDeltaMs: number;
  /** how often PRIM/SECOND Ready refresh their synctimestamp (bounds persistence writes) */
  readonly syncRefreshMs: number;
  /**
   * <rfs syncat>: the secondary synchronises at scheduled times only. After each completed reintegration it
   * holds in WAIT NotReady (rule rfs_syncat_wait) until the driver sends `syncat` (schedule reached, or
   * `safekit set -r rfs.syncat -v up`); the primary meanwhile runs ALONE and tracks what changed.
   */
  readonly syncat?: boolean;
  /**
   * A <splitbrain> checker runs (and checkers are on): a SECOND that loses every heartbeat takes over only
   * once the witnesses answered after the loss (`witnessVerdict`), so an isolated SECOND never starts the
   * application. Changed at run time by `witnessGate` (checker on|off).
   */
  readonly witnessGate?: boolean;
};

/** A primary term: bumped each time a node enters ALONE (writes no longer reach the peer). */
export type Term = { readonly n: number; readonly by: string };

/** Facts the driver persists (tmp + fsync + rename) after every step in which they changed. */
export type PersistentFacts = {
  /** conservative: true only when no other node can hold newer data (see docs/mirror-automaton.md) */
  readonly uptodate: boolean;
  readonly syncTimestamp: number | null;
  /** was PRIM/ALONE before its last stop (defaultprim="lastprim") */
  readonly lastPrim: boolean;
  readonly stoppedDuringReintegration: boolean;
  /** boot="auto" starts the module at boot when this is true */
  readonly wasRunning: boolean;
  /** term of the data held on this node */
  readonly term: Term | null;
  /** next secondary reintegration must be full (after prim fullsync / primforce) */
  readonly nextResyncFull: boolean;
  /** sequence number of heartbeat payloads, so a receiver can drop reordered old ones */
  readonly epoch: number;
};

export type SwapRole = "none" | "request" | "handover";

/** What one node tells its peer in every heartbeat. */
export type HeartbeatPayload = {
  readonly node: string;
  readonly state: LocalStateName;
  readonly qual: Qualifier;
  readonly uptodate: boolean;
  readonly syncTimestamp: number | null;
  readonly term: Term | null;
  readonly formerSecond: boolean;
  readonly swap: SwapRole;
  /** with swap "request": the secondary asked for `swap nosync` */
  readonly swapNosync: boolean;
  readonly requireFullSync: boolean;
  readonly primBeforeStart: boolean;
  readonly epoch: number;
  readonly resources?: Readonly<Record<string, string>>;
};

export type CommandVerb =
  | "start"
  | "stop"
  | "restart"
  | "stopstart"
  | "swap"
  | "prim"
  | "second"
  | "primforce"
  | "secondforce"
  | "forcestop"
  | "shutdown";

export type MirrorCommand = {
  readonly kind: "command";
  readonly id: string;
  readonly verb: CommandVerb;
  /** who called it, as logged: "root", "SYSTEM", "admin@1.2.3.4", "maxloop"... */
  readonly by: string;
  /** -i identity (checkers, failover machine); maxloop counting is done by the maxloop automaton */
  readonly identity?: string;
  /** set when the failover machine sends it: logged `Action <verb> from failover rule <rule>` */
  readonly rule?: string;
  readonly fullsync?: boolean;
  readonly nosync?: boolean;
  /** secondforce -d: epoch ms; files modified after it are copied */
  readonly date?: number;
};

export type MirrorEvent =
  | MirrorCommand
  | { readonly kind: "heartbeat"; readonly ident: string; readonly payload: HeartbeatPayload }
  | { readonly kind: "heartbeatTimeout"; readonly ident: string }
  | { readonly kind: "tick" }
  /**
   * The failover machine's verdict on the wait rules (checkers with action wait): "init" while one of their
   * resources is still init, "down" while a wait rule fires, "up" when none does (Implicit_wakeup).
   */
  | { readonly kind: "waitRules"; readonly status: "init" | "down" | "up"; readonly rule?: string }
  /** <rfs syncat>: the schedule is reached (or rfs.syncat was set up): synchronise now */
  | { readonly kind: "syncatDue" }
  /** <splitbrain>: the witnesses' verdict for the current loss of the peer */
  | { readonly kind: "witnessVerdict"; readonly reachable: boolean }
  /** <splitbrain> checker running or not (checker on|off): whether takeovers wait for the verdict */
  | { readonly kind: "witnessGate"; readonly on: boolean }
  | {
    readonly kind: "scriptFinished";
    readonly script: ScriptName;
    readonly runId?: number;
    readonly exitCode: number;
    readonly timedOut: boolean;
  }
  | { readonly kind: "resyncProgress"; readonly percent: number }
  | { readonly kind: "resyncFinished" }
  /** `safekit failover on|off` (usersetting.failover): applies at once, kept across restarts by the driver. */
  | { readonly kind: "setFailover"; readonly on: boolean }
  /** The primary's replication lost its secondary (locktimeout, sendtimeout, connection closed). */
  | { readonly kind: "replicationLost"; readonly reason: string }
  | { readonly kind: "resyncFailed"; readonly reason: string }
  | {
    readonly kind: "boot";
    readonly boot: "on" | "off" | "auto" | "ignore";
    readonly bootDelayMs: number;
    readonly wasRunningBeforeReboot?: boolean;
    /** boot="ignore": the legacy `safekit boot -m AM on|off` switch */
    readonly legacyBootOn?: boolean;
  };

export type LogLevel = "U" | "E" | "C" | "S" | "I" | "D";
export type ResyncMode = "full" | "zones" | "date";

export type MirrorEffect =
  | {
    readonly kind: "runScript";
    readonly name: ScriptName;
    readonly runId: number;
    readonly args: readonly [string, string, string];
    readonly force?: boolean;
  }
  | { readonly kind: "killScript"; readonly name: ScriptName; readonly runId: number }
  | { readonly kind: "setHeartbeatPayload"; readonly payload: HeartbeatPayload }
  | { readonly kind: "log"; readonly component: string; readonly level: LogLevel; readonly message: string }
  | { readonly kind: "setResource"; readonly name: string; readonly value: string }
  | { readonly kind: "reply"; readonly commandId: string; readonly ok: boolean; readonly error?: string }
  | { readonly kind: "startResync"; readonly mode: ResyncMode; readonly since?: number }
  | { readonly kind: "stopResync" }
  | { readonly kind: "readyChanged"; readonly ready: boolean };

/** Why a started module is not (yet) primary or secondary. */
export type WaitReason =
  | "heartbeats" // no heartbeat received nor timed out yet: the peer's state is not known
  | "notuptodate" // rule notuptodate_server
  | "inconsistent" // stopped during reintegration
  | "peerElected" // both up to date and starting: the peer has priority
  | "peerPrimary" // `second` asked: waiting for the peer to be primary
  | "failoverOff"
  | "rule" // a wait rule fires (checker with action wait): WAIT NotReady until Implicit_wakeup
  | "ruleInit" // a wait rule's resource is still init: WAIT Transient
  | "syncat"; // <rfs syncat>: synchronised, waiting for the next schedule (rule rfs_syncat_wait)

export type Intent =
  | { readonly kind: "auto" }
  | { readonly kind: "prim"; readonly fullsync: boolean }
  | { readonly kind: "primforce" }
  | { readonly kind: "second"; readonly mode: ResyncMode; readonly since?: number };

export type ScriptCall = {
  readonly name: ScriptName;
  readonly args: readonly [string, string, string];
  readonly force: boolean;
};

/** What happens once a job's scripts are all done. */
export type Continuation =
  | { readonly kind: "elect" }
  | { readonly kind: "enter"; readonly state: LocalStateName; readonly qual: Qualifier }
  | {
    readonly kind: "stopped";
    readonly from: LocalStateName;
    readonly verb: CommandVerb | "exitalone" | "failover-off" | "dropped" | "wait";
  }
  | { readonly kind: "handover" };

export type Job = {
  readonly action: string;
  readonly pending: readonly ScriptCall[];
  readonly running: { readonly call: ScriptCall; readonly runId: number } | null;
  readonly then: Continuation;
};

/** The peer as last heard; null = UNKNOWN Unknown (all heartbeats lost or never heard). */
export type AppRole = "none" | "primary" | "second";

export type MirrorState = {
  readonly config: MirrorConfig;
  readonly persist: PersistentFacts;
  readonly local: LocalStateName;
  readonly qual: Qualifier;
  readonly appRole: AppRole;
  readonly intent: Intent | null;
  readonly waitReason: WaitReason | null;
  readonly heartbeats: Readonly<Record<string, "init" | "up" | "down">>;
  readonly peer: HeartbeatPayload | null;
  readonly peerEpoch: number;
  readonly job: Job | null;
  readonly nextRunId: number;
  readonly deferred: MirrorCommand | null;
  readonly resync: { readonly mode: ResyncMode; readonly term: Term | null } | null;
  readonly formerSecond: boolean;
  /** SECOND Ready seen as such by its primary (it showed PRIM with our term): safe to take over */
  readonly ackedByPrimary: boolean;
  readonly swap: SwapRole;
  readonly swapNosync: boolean;
  readonly skipDefaultPrimOnce: boolean;
  readonly primBeforeStart: boolean;
  readonly splitBrainLogged: boolean;
  readonly bootStartAt: number | null;
  readonly lastPayload: HeartbeatPayload | null;
  readonly lastReady: boolean;
  readonly lastUptodateResource: string | null;
  /** Last verdict of the failover machine on the wait rules. */
  readonly ruleWait: "init" | "down" | "up";
  /** <rfs syncat>: synchronised, holding WAIT until the next schedule (rule rfs_syncat_wait) */
  readonly syncatHold: boolean;
  /** a witness answered since the peer was last lost (with witnessGate) */
  readonly witnessOk: boolean;
  /** "waiting for the witness" logged for the current loss */
  readonly witnessWaitLogged: boolean;
};

export type StepResult = { readonly state: MirrorState; readonly effects: MirrorEffect[] };
