// Checkers (spec §4.11): one per <check> child, each feeding one resource to the failover machine.
export {
  type Checker,
  CHECKER_COMPONENT,
  DEFAULT_INTERVAL_MS,
  DEFAULT_TIMEOUT_MS,
  PeriodicChecker,
  type Probe,
  type ProbeResult,
  probeWithin,
  type ReportResource,
  resourceMessage,
  type ResourceValue,
} from "./checker.ts";
export {
  type CheckerContext,
  type CheckerFactory,
  checkerPhase,
  CheckerSet,
  componentOfResource,
  createChecker,
} from "./checker_set.ts";
export {
  CustomChecker,
  DEFAULT_BACKOFF,
  type RestartBackoff,
  type ScriptEnvironment,
} from "./custom_checker.ts";
export { intfChecker } from "./intf_checker.ts";
export { ipChecker } from "./ip_checker.ts";
export { moduleChecker, readyUrl } from "./module_checker.ts";
export { icmpSocketKind, ping, pingChecker, type PingMethod } from "./ping_checker.ts";
export { splitbrainChecker, type WitnessOptions, witnessProbe } from "./splitbrain_checker.ts";
export {
  initialIsolationState,
  type IsolationEffect,
  type IsolationEvent,
  type IsolationState,
  isolationStep,
  type PeerView,
  peerView,
  SPLITBRAIN_UPTODATE,
} from "./splitbrain_isolation.ts";
export { tcpChecker } from "./tcp_checker.ts";
