// errd: process monitoring (spec §4.10) and `safekit kill` (spec §3.8).
export {
  actionMessage,
  countOk,
  type ErrdAction,
  type ErrdEffect,
  type ErrdEvent,
  errdList,
  type ErrdProcState,
  type ErrdState,
  errdStep,
  failureMessage,
  initialErrdState,
  sameClass,
} from "./errd_automaton.ts";
export {
  ErrdMonitor,
  type ErrdMonitorOptions,
  type HandlerEnvironment,
  readProcTable,
} from "./errd_monitor.ts";
export {
  type KillLevel,
  type KillOutcome,
  type KillRequest,
  killTargets,
  parseKillArgs,
  runKill,
} from "./kill_command.ts";
export {
  COMM_LENGTH,
  commOf,
  compileSelector,
  matchesProc,
  matchingProcs,
  parseCmdline,
  parseStat,
  posixEre,
  type ProcInfo,
  procLine,
  type ProcSelector,
} from "./proc_table.ts";
export { errdListText } from "./errd_list.ts";
