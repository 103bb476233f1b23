// Module-log texts of the mirror automaton. The documented ones are verbatim from spec §10.2
// (including their quirks); the few marked "ours" are not in the catalogue and say so.

import type { LocalStateName, Qualifier, RemoteQualifier, RemoteStateName } from "./mirror_types.ts";

export const msg = {
  action: (verb: string, by: string) => `Action ${verb} called by ${by}`,
  actionFromRule: (verb: string, rule: string) => `Action ${verb} from failover rule ${rule}`,
  startAutomatically: "Action start called automatically",
  startAtBoot: "Action start called at boot time",
  waitWitness: "Heartbeats lost: asking the splitbrain witnesses before taking over",
  syncatWakeup: "Scheduled synchronization (syncat): Implicit_wakeup from failover rule rfs_syncat_wait",
  aloneNoHeartbeat: "Action alone called by heart: no heartbeat",
  aloneRemoteStop: "Action alone called by heart: remote stop",
  localState: (s: LocalStateName, q: Qualifier) => `Local state ${s} ${q}`,
  remoteState: (s: RemoteStateName, q: RemoteQualifier) => `Remote state ${s} ${q}`,
  resourceSet: (name: string, value: string, by: string) => `Resource ${name} set to ${value} by ${by}`,
  script: (name: string) => `Script ${name}`,
  waitNotUptodate: "Action wait from failover rule rfs_notuptodate_server",
  dataNotUptodate:
    "Data may be not uptodate for replicated directories (wait for the start of the remote server)",
  ifSurePrim:
    "If you are sure that this server has valid data, run safekit stop, then safekit prim to force start as primary",
  dataInconsistent: "Data may be inconsistent for replicated directories (stopped during reintegration)",
  ifSurePrimforce:
    "If you are sure that this server has valid data, run safekit primforce to force start as primary",
  primAborted: "Requested prim start aborted ",
  syncDelta:
    "Automatic synchronization cannot be applied due to an abnormal delta between the dates of the last synchronization",
  failoverOff: "Failover-off configured",
  stopstartFailoverOff: "Action stopstart called by failover-off",
  transitionFailoverOff: "Transition STOPSTART from failover-off",
  swapDefaultPrim: "Transition SWAP from defaultprim",
  beginSwap: "Begin of Swap",
  splitBrainExit: "Split brain recovery: exiting alone",
  splitBrainStay: "Split brain recovery: staying alone",
  // ours: not in the catalogue
  scriptFailed: (name: string, code: number) => `Script ${name} failed with exit code ${code}`,
  scriptTimedOut: (name: string) => `Script ${name} timed out`,
  stopstartPeerUptodate: "Action stopstart called by heart: remote stop with up-to-date data",
  stopstartNotAcked:
    "Action stopstart called by heart: no heartbeat before the primary saw this secondary ready",
  stopstartDropped: "Action stopstart called by heart: remote primary changed",
  resyncFailed: (reason: string) => `Reintegration failed: ${reason}`,
  replicationLost: (reason: string) => `Action alone called by nfsbox: secondary lost (${reason})`,
} as const;
