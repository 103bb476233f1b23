// The mirror-module automaton of ONE node: step(state, event, now) -> { state, effects }.
// Pure: no clock, no I/O. The driver feeds commands, heartbeats (and per-heartbeat timeouts),
// script completions, replication progress and ticks, and executes the effects.
//
// Documented rules (spec §2.2) and our choices for the gaps (spec §13), also in docs/mirror-automaton.md:
// - start: prestart runs in WAIT Transient, then the role is elected: SECOND if the peer is PRIM/ALONE,
//   ALONE if local data is up to date and the peer is not primary, else WAIT NotReady (notuptodate_server).
//   Until some heartbeat has been heard or has timed out, the peer is not known: WAIT Transient.
//   Two up-to-date nodes starting together: the newer synctimestamp, then the higher term, then the
//   smaller node name goes ALONE; the other waits and becomes SECOND.
// - "up to date" is persisted conservatively: true in ALONE (no secondary can take over), false in
//   SECOND, false in PRIM when failover is on (the secondary may take over at any time). A PRIM that
//   stops while its peer is STOP/WAIT stays up to date. After a double crash both nodes WAIT.
// - Every entry into ALONE bumps a term carried in heartbeats; a SECOND whose primary changed term
//   was dropped by it and does a stopstart to resynchronize.
// - Takeover handshakes: a SECOND takes over on "remote stop" only if the stopped peer says it is not
//   up to date, and on "no heartbeat" only if the primary had shown PRIM with our term (it knew we were
//   Ready); otherwise it restarts and waits. Both close races where two nodes would each believe they
//   hold the latest data (found by tests/sim/mirror_sim.ts).
// - Split brain, synctimestamp delta > 90 s (module stops; `second fullsync` resolves), failover off,
//   defaultprim and boot: see docs/mirror-automaton.md.
// - Split brain (both primary on reconnection): the former SECOND exits alone; if both or neither were
//   former SECOND, the node with the larger name exits. The exiting node does stop_prim + stopstart.
// - swap: the primary runs stop_prim (graceful, forced) and announces "handover" in SECOND Transient;
//   the secondary (whose data is in sync by synchronous replication) runs stop_second + start_prim and
//   goes ALONE; the old primary then resynchronizes (zones; `nosync`: none) and becomes SECOND Ready;
//   the new primary goes PRIM. swap on the SECOND asks the PRIM to do it. All heartbeats lost during the
//   handover: the old primary goes WAIT rather than risk two primaries.
// - Script exit codes never change the path: a non-zero exit or a timeout is logged (E) and the next
//   script runs, as start-failure handling is done inside SafeKit's own scripts (`safekit stop -i`).
// - Commands reply at once: accepted (ok) or refused with a precise error. stop/stopstart/shutdown
//   during a running action are deferred to its end; forcestop kills the running script and runs the
//   forced stop calls only; other commands during an action are refused.

import { msg } from "./mirror_messages.ts";
import { restartCalls, roleChangeCalls } from "./mirror_scripts.ts";
import type {
  Continuation,
  HeartbeatPayload,
  Intent,
  LocalStateName,
  LogLevel,
  MirrorCommand,
  MirrorConfig,
  MirrorEffect,
  MirrorEvent,
  MirrorState,
  PersistentFacts,
  Qualifier,
  ResyncMode,
  ScriptCall,
  StepResult,
  Term,
  WaitReason,
} from "./mirror_types.ts";

export type * from "./mirror_types.ts";

export const defaultPersistentFacts: PersistentFacts = {
  uptodate: false,
  syncTimestamp: null,
  lastPrim: false,
  stoppedDuringReintegration: false,
  wasRunning: false,
  term: null,
  nextResyncFull: false,
  epoch: 0,
};

export function initialMirrorState(config: MirrorConfig, persisted?: PersistentFacts): MirrorState {
  return {
    config,
    persist: persisted ?? defaultPersistentFacts,
    local: "STOP",
    qual: "NotReady",
    appRole: "none",
    intent: null,
    waitReason: null,
    ruleWait: "up",
    heartbeats: Object.fromEntries(config.heartbeats.map((h) => [h, "init" as const])),
    peer: null,
    peerEpoch: -1,
    job: null,
    nextRunId: 1,
    deferred: null,
    resync: null,
    formerSecond: false,
    ackedByPrimary: false,
    swap: "none",
    swapNosync: false,
    skipDefaultPrimOnce: false,
    syncatHold: false,
    witnessOk: false,
    witnessWaitLogged: false,
    primBeforeStart: false,
    splitBrainLogged: false,
    bootStartAt: null,
    lastPayload: null,
    lastReady: false,
    lastUptodateResource: null,
  };
}

/** Mutable accumulator used inside one step only; step() itself stays pure. */
type Ctx = { s: MirrorState; fx: MirrorEffect[]; now: number };

const isPrimaryState = (st: string | undefined) => st === "PRIM" || st === "ALONE";
const peerIsPrimary = (c: Ctx) => c.s.peer !== null && isPrimaryState(c.s.peer.state);
const peerLabel = (c: Ctx) => (c.s.peer ? `${c.s.peer.state} ${c.s.peer.qual}` : "UNKNOWN Unknown");
const sameTerm = (a: Term | null, b: Term | null) => a !== null && b !== null && a.n === b.n && a.by === b.by;

function log(c: Ctx, level: LogLevel, message: string, component = "heart") {
  c.fx.push({ kind: "log", component, level, message });
}

function setPersist(c: Ctx, patch: Partial<PersistentFacts>) {
  c.s = { ...c.s, persist: { ...c.s.persist, ...patch } };
}

function setLocal(c: Ctx, local: LocalStateName, qual: Qualifier) {
  if (c.s.local === local && c.s.qual === qual) return;
  c.s = { ...c.s, local, qual, ackedByPrimary: local === "SECOND" && qual === "Ready" && c.s.ackedByPrimary };
  log(c, "E", msg.localState(local, qual));
  c.fx.push({ kind: "setResource", name: "state.local", value: `${local} ${qual}` });
  if (local === "SECOND") setPersist(c, { uptodate: false });
}

/**
 * Persisted "up to date" of a primary: false as soon as a SECOND Ready peer could take over without us
 * (failover on), since it would then write data we do not have.
 */
function primaryUptodate(c: Ctx): boolean {
  const peer = c.s.peer;
  return c.s.config.failover === "off" ||
    !(peer !== null && peer.state === "SECOND" && peer.qual === "Ready");
}

// ---------------------------------------------------------------- jobs (script sequences)

function startJob(c: Ctx, action: string, calls: readonly ScriptCall[], then: Continuation) {
  c.s = { ...c.s, job: { action, pending: calls, running: null, then } };
  runNext(c);
}

function runNext(c: Ctx) {
  const job = c.s.job;
  if (!job) return;
  const [next, ...rest] = job.pending;
  if (!next) {
    c.s = { ...c.s, job: null };
    continueAfter(c, job.then);
    return;
  }
  const runId = c.s.nextRunId;
  c.s = { ...c.s, nextRunId: runId + 1, job: { ...job, pending: rest, running: { call: next, runId } } };
  log(c, "S", msg.script(next.name), "userplug");
  c.fx.push({
    kind: "runScript",
    name: next.name,
    runId,
    args: next.args,
    ...(next.force ? { force: true } : {}),
  });
}

function continueAfter(c: Ctx, then: Continuation) {
  switch (then.kind) {
    case "elect":
      return; // evaluate() elects once no job runs
    case "enter":
      if (then.state === "ALONE" || then.state === "PRIM") c.s = { ...c.s, appRole: "primary" };
      if (then.state === "SECOND") c.s = { ...c.s, appRole: "second" };
      setLocal(c, then.state, then.qual);
      return;
    case "handover":
      c.s = { ...c.s, appRole: "none", swap: "handover" };
      setLocal(c, "SECOND", "Transient");
      return;
    case "stopped":
      return finishStop(c, then.from, then.verb);
  }
}

// ---------------------------------------------------------------- start and election

function startModule(c: Ctx, intent: Intent, action: string) {
  c.s = {
    ...c.s,
    intent,
    waitReason: null,
    syncatHold: false,
    primBeforeStart: c.s.persist.lastPrim,
    formerSecond: false,
    swap: "none",
    splitBrainLogged: false,
  };
  setPersist(c, { wasRunning: true });
  setLocal(c, "WAIT", "Transient");
  startJob(c, action, [
    { name: "prestart", args: ["STOP", "WAIT", "start"], force: false },
    { name: "transition", args: ["STOP", "WAIT", "start"], force: false },
  ], { kind: "elect" });
}

function waitFor(c: Ctx, reason: WaitReason) {
  if (c.s.waitReason !== reason) {
    c.s = { ...c.s, waitReason: reason };
    if (reason === "notuptodate") {
      log(c, "E", msg.waitNotUptodate);
      log(c, "E", msg.dataNotUptodate, "rfsplug");
      log(c, "E", msg.ifSurePrim, "rfsplug");
    } else if (reason === "inconsistent") {
      log(c, "E", msg.waitNotUptodate);
      log(c, "E", msg.dataInconsistent, "rfsplug");
      log(c, "E", msg.ifSurePrimforce, "rfsplug");
    }
  }
  const transient = reason === "heartbeats" || reason === "peerElected" || reason === "ruleInit";
  setLocal(c, "WAIT", transient ? "Transient" : "NotReady");
}

function peerUnknownYet(c: Ctx) {
  return c.s.peer === null && Object.values(c.s.heartbeats).some((h) => h === "init");
}

/** Two up-to-date nodes starting together: a total order both compute alike. */
function peerHasPriority(c: Ctx, peer: HeartbeatPayload) {
  const mine = c.s.persist;
  const a = mine.syncTimestamp ?? -1, b = peer.syncTimestamp ?? -1;
  if (a !== b) return b > a;
  const ta = mine.term?.n ?? -1, tb = peer.term?.n ?? -1;
  if (ta !== tb) return tb > ta;
  return peer.node < c.s.config.node;
}

function elect(c: Ctx) {
  // Wait rules first: a started module does not take a role while one fires or is still init.
  if (c.s.ruleWait === "down") return waitFor(c, "rule");
  if (c.s.ruleWait === "init") return waitFor(c, "ruleInit");
  if (c.s.syncatHold) return waitFor(c, "syncat");
  const intent = c.s.intent ?? { kind: "auto" };
  const peer = c.s.peer;
  if (intent.kind === "prim" || intent.kind === "primforce") {
    if (peerIsPrimary(c)) {
      // the peer became primary while prestart ran
      log(c, "E", msg.primAborted);
      return beginStop(c, "stop", "stop");
    }
    return becomePrimary(c, intent.kind, intent.kind === "primforce" || intent.fullsync);
  }
  if (peerIsPrimary(c)) {
    const mode: ResyncMode = intent.kind === "second" ? intent.mode : "zones";
    return becomeSecond(c, mode, intent.kind === "second" ? intent.since : undefined);
  }
  if (intent.kind === "second" || c.s.waitReason === "failoverOff") {
    return waitFor(c, c.s.waitReason === "failoverOff" ? "failoverOff" : "peerPrimary");
  }
  if (peerUnknownYet(c)) return waitFor(c, "heartbeats");
  if (!c.s.config.replicated) {
    // nothing to be out of date: elect by the same order as two up-to-date nodes
    if (peer && peer.state === "WAIT" && peerHasPriority(c, peer)) return waitFor(c, "peerElected");
    if (peer && peer.state === "SECOND") return waitFor(c, "peerElected");
    return becomePrimary(c, "start", false);
  }
  if (c.s.persist.stoppedDuringReintegration) return waitFor(c, "inconsistent");
  if (!c.s.persist.uptodate) return waitFor(c, "notuptodate");
  if (peer && peer.state === "WAIT" && peer.uptodate && peerHasPriority(c, peer)) {
    return waitFor(c, "peerElected");
  }
  // A SECOND peer still believes in a primary (us before a fast restart): it reacts to our WAIT first.
  if (peer && peer.state === "SECOND") return waitFor(c, "peerElected");
  becomePrimary(c, "start", false);
}

function newTerm(c: Ctx): Term {
  const n = Math.max(c.s.persist.term?.n ?? 0, c.s.peer?.term?.n ?? 0) + 1;
  return { n, by: c.s.config.node };
}

function becomePrimary(c: Ctx, action: string, requireFullSync: boolean) {
  const from = c.s.local;
  c.s = { ...c.s, waitReason: null, intent: null, primBeforeStart: false };
  setPersist(c, {
    term: newTerm(c),
    lastPrim: true,
    ...(action === "primforce" ? { stoppedDuringReintegration: false } : {}),
    ...(requireFullSync ? { nextResyncFull: true } : {}),
  });
  setLocal(c, "ALONE", "Transient");
  const args = [from, "ALONE", "start"] as const;
  const calls = roleChangeCalls(c.s.appRole, "primary", args);
  if (from === "WAIT") calls.push({ name: "transition", args, force: false });
  startJob(c, action, calls, { kind: "enter", state: "ALONE", qual: "Ready" });
}

function becomeSecond(c: Ctx, requested: ResyncMode, since?: number) {
  const peer = c.s.peer!;
  const p = c.s.persist;
  let mode = requested;
  if (mode === "zones" && (p.syncTimestamp === null || peer.requireFullSync || p.term === null)) {
    mode = "full";
  }
  if (mode === "zones" && peer.syncTimestamp !== null) {
    const delta = Math.abs(p.syncTimestamp! - peer.syncTimestamp);
    if (delta > c.s.config.maxSyncDeltaMs) {
      log(c, "E", msg.syncDelta, "reintegre");
      return beginStop(c, "stop", "stop");
    }
  }
  c.s = { ...c.s, waitReason: null, intent: null, resync: { mode, term: peer.term }, swap: "none" };
  // Persisted now so that a crash in the middle also counts as "stopped during reintegration".
  setPersist(c, { stoppedDuringReintegration: true });
  setLocal(c, "SECOND", "Transient");
  if (!c.s.config.replicated) return finishResync(c);
  c.fx.push(since === undefined ? { kind: "startResync", mode } : { kind: "startResync", mode, since });
}

function finishResync(c: Ctx) {
  const term = c.s.resync?.term ?? c.s.peer?.term ?? null;
  c.s = { ...c.s, resync: null };
  setPersist(c, { term, stoppedDuringReintegration: false, syncTimestamp: c.now });
  if (c.s.config.syncat && c.s.config.replicated) {
    c.s = { ...c.s, syncatHold: true };
    c.fx.push({ kind: "setResource", name: "rfs.syncat", value: "down" });
  }
  const args = ["SECOND", "SECOND", "start"] as const;
  startJob(c, "second", roleChangeCalls(c.s.appRole, "second", args), {
    kind: "enter",
    state: "SECOND",
    qual: "Ready",
  });
}

function interruptResync(c: Ctx) {
  if (!c.s.resync) return;
  c.fx.push({ kind: "stopResync" });
  c.s = { ...c.s, resync: null };
  setPersist(c, { stoppedDuringReintegration: true });
}

// ---------------------------------------------------------------- stop

type StopVerb = MirrorCommand["verb"] | "exitalone" | "failover-off" | "dropped" | "wait";

function beginStop(c: Ctx, verb: StopVerb, action: string) {
  const from = c.s.local;
  if (c.s.swap === "handover") c.s = { ...c.s, swap: "none" };
  interruptResync(c);
  const scriptAction = verb === "stop" || verb === "forcestop" || verb === "shutdown"
    ? "stop"
    : verb === "wait"
    ? "stopwait"
    : "stopstart";
  // A wait keeps the module started (its `pre` checkers go on until poststop): no poststop, next WAIT.
  const args = [from, verb === "wait" ? "WAIT" : "STOP", scriptAction] as const;
  const calls = [
    ...roleChangeCalls(c.s.appRole, "none", args, verb === "forcestop"),
    ...(verb === "wait" ? [] : [{ name: "poststop" as const, args, force: false }]),
    { name: "transition" as const, args, force: false },
  ];
  if (from !== "SECOND" || c.s.qual !== "Transient") setLocal(c, from, "Transient");
  startJob(c, action, calls, { kind: "stopped", from, verb });
}

function finishStop(c: Ctx, from: LocalStateName, verb: StopVerb) {
  const p = c.s.persist;
  let uptodate = p.uptodate;
  if (isPrimaryState(from)) uptodate = primaryUptodate(c);
  if (from === "SECOND") uptodate = false;
  if (verb === "exitalone") uptodate = false;
  setPersist(c, {
    uptodate,
    lastPrim: isPrimaryState(from) ? true : from === "SECOND" ? false : p.lastPrim,
    wasRunning: verb === "stop" || verb === "forcestop" ? false : p.wasRunning,
  });
  c.s = {
    ...c.s,
    appRole: "none",
    intent: null,
    waitReason: null,
    formerSecond: false,
    swap: "none",
    splitBrainLogged: false,
  };
  if (verb === "wait") {
    // Stopped for a wait rule: stays started, WAIT NotReady, until Implicit_wakeup elects again.
    c.s = { ...c.s, intent: { kind: "auto" } };
    return waitFor(c, c.s.syncatHold ? "syncat" : "rule");
  }
  setLocal(c, "STOP", "NotReady");
  if (verb === "stopstart" || verb === "exitalone" || verb === "dropped") {
    log(c, "U", msg.startAutomatically);
    startModule(c, { kind: "auto" }, "start");
  } else if (verb === "failover-off") {
    log(c, "U", msg.startAutomatically);
    startModule(c, { kind: "auto" }, "start");
    c.s = { ...c.s, waitReason: "failoverOff" };
  }
}

// ---------------------------------------------------------------- commands

function refuse(c: Ctx, cmd: MirrorCommand, why: string) {
  c.fx.push({ kind: "reply", commandId: cmd.id, ok: false, error: `cannot '${cmd.verb}' module: ${why}` });
}
function accept(c: Ctx, cmd: MirrorCommand) {
  c.fx.push({ kind: "reply", commandId: cmd.id, ok: true });
  log(c, "U", cmd.rule ? msg.actionFromRule(cmd.verb, cmd.rule) : msg.action(cmd.verb, cmd.by));
}

function onCommand(c: Ctx, cmd: MirrorCommand) {
  const { verb } = cmd;
  const local = `${c.s.local} ${c.s.qual}`;
  const job = c.s.job;
  if (verb === "forcestop") {
    accept(c, cmd);
    if (job?.running) {
      c.fx.push({ kind: "killScript", name: job.running.call.name, runId: job.running.runId });
    }
    c.s = { ...c.s, job: null, deferred: null };
    if (c.s.local === "STOP") return;
    return beginStop(c, "forcestop", "forcestop");
  }
  if (verb === "stop" || verb === "shutdown" || verb === "stopstart") {
    if (c.s.local === "STOP" && !job) {
      if (verb === "stopstart") return refuse(c, cmd, "it is not started (local state STOP NotReady)");
      accept(c, cmd);
      if (verb === "stop") setPersist(c, { wasRunning: false });
      return;
    }
    accept(c, cmd);
    if (job) {
      c.s = { ...c.s, deferred: cmd }; // applied when the running action ends
      return;
    }
    return beginStop(c, verb, verb);
  }
  if (job) {
    return refuse(c, cmd, `action '${job.action}' is in progress (local state ${local}); retry when it ends`);
  }
  const fromStop = ["start", "prim", "second", "primforce", "secondforce"].includes(verb);
  if (fromStop && c.s.local !== "STOP") {
    return refuse(c, cmd, `it is already started (local state ${local}); stop it first`);
  }
  switch (verb) {
    case "start":
      accept(c, cmd);
      return startModule(c, { kind: "auto" }, "start");
    case "prim":
    case "primforce":
      if (peerIsPrimary(c)) {
        return refuse(
          c,
          cmd,
          `the remote node is already ${c.s.peer!.state} (use 'safekit swap' or stop it first)`,
        );
      }
      if (verb === "prim" && c.s.persist.stoppedDuringReintegration) {
        log(c, "E", msg.dataInconsistent, "rfsplug");
        log(c, "E", msg.ifSurePrimforce, "rfsplug");
        return refuse(
          c,
          cmd,
          "data may be inconsistent for replicated directories (stopped during reintegration); " +
            "if you are sure this server has valid data, run 'safekit primforce'",
        );
      }
      accept(c, cmd);
      return startModule(
        c,
        verb === "prim" ? { kind: "prim", fullsync: cmd.fullsync === true } : { kind: "primforce" },
        verb,
      );
    case "second":
    case "secondforce":
      if (!peerIsPrimary(c)) {
        return refuse(c, cmd, `the remote node is not primary (remote state ${peerLabel(c)})`);
      }
      if (verb === "secondforce" && cmd.date === undefined) {
        return refuse(c, cmd, "a date is required (-d <date>)");
      }
      accept(c, cmd);
      return startModule(
        c,
        verb === "second"
          ? { kind: "second", mode: cmd.fullsync ? "full" : "zones" }
          : { kind: "second", mode: "date", since: cmd.date },
        verb,
      );
    case "restart":
      if (c.s.qual !== "Ready" || c.s.appRole === "none") {
        return refuse(c, cmd, `it is not PRIM, ALONE or SECOND Ready (local state ${local})`);
      }
      accept(c, cmd);
      setLocal(c, c.s.local, "Transient");
      return startJob(
        c,
        "restart",
        restartCalls(c.s.appRole, [c.s.local, c.s.local, "restart"]),
        { kind: "enter", state: c.s.local, qual: "Ready" },
      );
    case "swap": {
      const peer = c.s.peer;
      const pairOk = c.s.qual === "Ready" && peer?.qual === "Ready" &&
        ((c.s.local === "PRIM" && peer.state === "SECOND") ||
          (c.s.local === "SECOND" && peer.state === "PRIM"));
      if (!pairOk) {
        return refuse(
          c,
          cmd,
          `it needs a PRIM Ready / SECOND Ready pair (local ${local}, remote ${peerLabel(c)})`,
        );
      }
      accept(c, cmd);
      c.s = { ...c.s, swapNosync: cmd.nosync === true };
      if (c.s.local === "PRIM") return beginSwap(c);
      c.s = { ...c.s, swap: "request" };
      return;
    }
  }
}

// ---------------------------------------------------------------- swap

function beginSwap(c: Ctx) {
  log(c, "E", msg.beginSwap);
  setLocal(c, "PRIM", "Transient");
  const args = ["PRIM", "SECOND", "swap"] as const;
  startJob(c, "swap", [...roleChangeCalls("primary", "none", args), {
    name: "transition",
    args,
    force: false,
  }], {
    kind: "handover",
  });
}

// ---------------------------------------------------------------- heartbeats

function onHeartbeat(c: Ctx, ident: string, payload: HeartbeatPayload) {
  if (!(ident in c.s.heartbeats) || payload.node !== c.s.config.peer) return;
  if (c.s.heartbeats[ident] !== "up") {
    c.s = { ...c.s, heartbeats: { ...c.s.heartbeats, [ident]: "up" } };
    c.fx.push({ kind: "setResource", name: `heartbeat.${ident}`, value: "up" });
    log(c, "I", msg.resourceSet(`heartbeat.${ident}`, "up", "heart"));
  }
  if (payload.epoch < c.s.peerEpoch) return; // reordered: older than what we know
  const before = c.s.peer;
  // Heard again: the next loss needs a fresh witness verdict.
  c.s = { ...c.s, peer: payload, peerEpoch: payload.epoch, witnessOk: false, witnessWaitLogged: false };
  if (!before || before.state !== payload.state || before.qual !== payload.qual) {
    log(c, "E", msg.remoteState(payload.state, payload.qual));
    c.fx.push({ kind: "setResource", name: "state.remote", value: `${payload.state} ${payload.qual}` });
  }
}

function onHeartbeatTimeout(c: Ctx, ident: string) {
  if (!(ident in c.s.heartbeats) || c.s.heartbeats[ident] === "down") return;
  c.s = { ...c.s, heartbeats: { ...c.s.heartbeats, [ident]: "down" } };
  c.fx.push({ kind: "setResource", name: `heartbeat.${ident}`, value: "down" });
  log(c, "C", msg.resourceSet(`heartbeat.${ident}`, "down", "heart"));
  if (Object.values(c.s.heartbeats).every((h) => h === "down")) {
    const wasKnown = c.s.peer !== null;
    // forget the peer's epoch too, so a reinstalled peer (epoch back to 0) is heard again
    c.s = { ...c.s, peer: null, peerEpoch: -1 };
    if (wasKnown) {
      log(c, "E", msg.remoteState("UNKNOWN", "Unknown"));
      c.fx.push({ kind: "setResource", name: "state.remote", value: "UNKNOWN Unknown" });
    }
  }
}

// ---------------------------------------------------------------- reactions to the peer

function takeOver(c: Ctx, reason: "remote stop" | "no heartbeat" | "swap") {
  if (reason === "swap") {
    log(c, "E", msg.beginSwap);
    c.s = { ...c.s, skipDefaultPrimOnce: true, formerSecond: false };
  } else {
    log(c, "U", reason === "no heartbeat" ? msg.aloneNoHeartbeat : msg.aloneRemoteStop);
    c.s = { ...c.s, formerSecond: c.s.local === "SECOND" };
  }
  c.s = { ...c.s, swap: "none" };
  becomePrimary(c, reason === "swap" ? "swap" : "alone", false);
}

function failoverOff(c: Ctx) {
  log(c, "E", msg.failoverOff);
  log(c, "U", msg.stopstartFailoverOff);
  log(c, "E", msg.transitionFailoverOff);
  beginStop(c, "failover-off", "stopstart");
}

/** Both nodes primary: exactly one exits, decided alike on both sides. */
function resolveSplitBrain(c: Ctx) {
  const peer = c.s.peer!;
  const exits = splitBrainLoser(c.s, peer);
  if (exits) {
    log(c, "E", msg.splitBrainExit);
    setPersist(c, { uptodate: false });
    return beginStop(c, "exitalone", "stopstart");
  }
  if (!c.s.splitBrainLogged) {
    log(c, "E", msg.splitBrainStay);
    c.s = { ...c.s, splitBrainLogged: true };
  }
  if (c.s.local === "PRIM") enterAloneFromPrim(c);
}

/**
 * Which node yields when both are primary. A node still in PRIM never saw its peer go: if the peer is
 * ALONE with a newer term, the peer took over while this node was away (paused, frozen VM, one-way cut)
 * and holds the newest writes, so this node yields. Otherwise (both saw each other go: a real split
 * brain) the former SECOND exits, as SafeKit documents; if both or neither were SECOND, the larger name.
 */
export function splitBrainLoser(s: MirrorState, peer: HeartbeatPayload): boolean {
  const mine = s.persist.term?.n ?? 0;
  const theirs = peer.term?.n ?? 0;
  if (s.local === "PRIM" && peer.state === "ALONE" && theirs > mine) return true;
  if (s.local === "ALONE" && peer.state === "PRIM" && mine > theirs) return false;
  return s.formerSecond !== peer.formerSecond ? s.formerSecond : s.config.node > peer.node;
}

function enterAloneFromPrim(c: Ctx) {
  setPersist(c, { term: newTerm(c) }); // writes from now on are not replicated
  setLocal(c, "ALONE", "Ready");
}

function wantsDefaultPrimSwap(c: Ctx, peer: HeartbeatPayload) {
  const d = c.s.config.defaultprim;
  if (d.kind === "node") return d.node === peer.node && d.node !== c.s.config.node;
  if (d.kind === "lastprim") return peer.primBeforeStart;
  return false;
}

function evaluate(c: Ctx) {
  const s = c.s;
  const peer = s.peer;
  if (s.job) return;
  if (!peer || !isPrimaryState(peer.state)) c.s = { ...c.s, splitBrainLogged: false };
  if (s.ruleWait === "down" && (isPrimaryState(s.local) || s.local === "SECOND")) {
    // wait on PRIM fails over to the peer (spec §2.2); the failover machine logs the rule that fired.
    return beginStop(c, "wait", "wait");
  }
  if (s.syncatHold && s.local === "SECOND" && s.qual === "Ready") {
    log(c, "I", msg.actionFromRule("wait", "rfs_syncat_wait"));
    return beginStop(c, "wait", "wait");
  }
  switch (s.local) {
    case "STOP":
      return;
    case "WAIT":
      return elect(c);
    case "SECOND": {
      if (s.swap === "request" && !(peer?.state === "PRIM" && peer.qual === "Ready")) {
        c.s = { ...c.s, swap: "none" };
      }
      if (s.swap === "handover") {
        if (peer && isPrimaryState(peer.state) && peer.qual === "Ready") {
          c.s = { ...c.s, swap: "none" };
          if (c.s.swapNosync) {
            c.s = { ...c.s, resync: { mode: "zones", term: peer.term } };
            return finishResync(c);
          }
          return becomeSecond(c, "zones");
        }
        if (peer && (peer.state === "SECOND" || isPrimaryState(peer.state))) return; // peer taking over
        if (peer) return takeOver(c, "remote stop");
        // Heartbeats lost mid-swap: the peer may have taken over on its side. Wait rather than risk two
        // primaries; `stop` then `prim` restarts this node if the peer is really gone.
        c.s = { ...c.s, swap: "none", intent: { kind: "auto" } };
        return waitFor(c, "notuptodate");
      }
      if (s.qual === "Transient") {
        // reintegration in progress: it needs the same primary all along
        if (peer && isPrimaryState(peer.state) && sameTerm(peer.term, s.resync?.term ?? null)) return;
        interruptResync(c);
        c.s = { ...c.s, intent: { kind: "auto" } };
        return waitFor(c, "inconsistent");
      }
      // SECOND Ready
      if (peer && isPrimaryState(peer.state)) {
        if (sameTerm(peer.term, s.persist.term)) {
          if (peer.state === "PRIM" && !s.ackedByPrimary) c.s = { ...c.s, ackedByPrimary: true };
          return;
        }
        log(c, "U", msg.stopstartDropped);
        return beginStop(c, "dropped", "stopstart");
      }
      if (peer && peer.state === "SECOND" && peer.swap === "handover") return takeOver(c, "swap");
      if (s.config.failover === "off") return failoverOff(c);
      if (peer && (peer.state === "STOP" || peer.state === "WAIT") && peer.uptodate) {
        // The peer stopped believing nobody would take over (it never saw us Ready): taking over now
        // would leave two nodes each sure to hold the latest data. Wait for it instead.
        log(c, "U", msg.stopstartPeerUptodate);
        return beginStop(c, "dropped", "stopstart");
      }
      if (!peer && !s.ackedByPrimary) {
        // Lost before the primary ever saw us Ready: it may believe it alone holds the latest data.
        log(c, "U", msg.stopstartNotAcked);
        return beginStop(c, "dropped", "stopstart");
      }
      if (!peer && s.config.witnessGate && !s.witnessOk) {
        // Lost every heartbeat, but which side is cut off? Only a witness answer after the loss says this
        // node is not the isolated one; if none answers, splitbrain_failure sends it to WAIT instead.
        if (!s.witnessWaitLogged) {
          c.s = { ...c.s, witnessWaitLogged: true };
          log(c, "E", msg.waitWitness);
        }
        return;
      }
      return takeOver(c, peer ? "remote stop" : "no heartbeat");
    }
    case "ALONE":
    case "PRIM": {
      if (s.qual !== "Ready") return;
      if (peer && isPrimaryState(peer.state)) return resolveSplitBrain(c);
      const pairedSecond = peer !== null && peer.state === "SECOND" && peer.qual === "Ready" &&
        sameTerm(peer.term, s.persist.term);
      if (s.local === "ALONE") {
        if (!pairedSecond) return;
        setPersist(c, { nextResyncFull: false });
        setLocal(c, "PRIM", "Ready");
        if (c.s.skipDefaultPrimOnce) {
          c.s = { ...c.s, skipDefaultPrimOnce: false };
          return;
        }
        if (wantsDefaultPrimSwap(c, peer!)) {
          log(c, "E", msg.swapDefaultPrim);
          c.s = { ...c.s, swapNosync: false };
          return beginSwap(c);
        }
        return;
      }
      if (!pairedSecond) return enterAloneFromPrim(c);
      if (peer!.swap === "request") {
        c.s = { ...c.s, swapNosync: peer!.swapNosync };
        return beginSwap(c);
      }
      return;
    }
  }
}

// ---------------------------------------------------------------- step

export function step(state: MirrorState, event: MirrorEvent, now: number): StepResult {
  const c: Ctx = { s: state, fx: [], now };
  switch (event.kind) {
    case "command":
      onCommand(c, event);
      break;
    case "heartbeat":
      onHeartbeat(c, event.ident, event.payload);
      break;
    case "heartbeatTimeout":
      onHeartbeatTimeout(c, event.ident);
      break;
    case "scriptFinished": {
      const running = c.s.job?.running;
      const matches = running &&
        (event.runId !== undefined ? event.runId === running.runId : event.script === running.call.name);
      if (!matches) break; // a killed or unknown script
      if (event.timedOut) log(c, "E", msg.scriptTimedOut(event.script), "userplug");
      else if (event.exitCode !== 0) log(c, "E", msg.scriptFailed(event.script, event.exitCode), "userplug");
      runNext(c);
      break;
    }
    case "resyncProgress":
      if (c.s.resync) {
        c.fx.push({ kind: "setResource", name: "rfs.reintegre_progress", value: `${event.percent}` });
      }
      break;
    case "resyncFinished":
      if (c.s.resync && !c.s.job) finishResync(c);
      break;
    case "resyncFailed":
      if (c.s.resync && !c.s.job) {
        log(c, "E", msg.resyncFailed(event.reason), "reintegre");
        c.fx.push({ kind: "setResource", name: "rfs.reintegre_failed", value: "up" });
        c.s = { ...c.s, resync: null };
        setPersist(c, { stoppedDuringReintegration: true });
        beginStop(c, "stopstart", "stopstart");
      }
      break;
    case "boot": {
      const on = event.boot === "on" || (event.boot === "auto" &&
        (event.wasRunningBeforeReboot ?? c.s.persist.wasRunning)) ||
        (event.boot === "ignore" && event.legacyBootOn === true);
      c.fx.push({ kind: "setResource", name: "usersetting.boot", value: event.boot });
      if (on) c.s = { ...c.s, bootStartAt: now + event.bootDelayMs };
      break;
    }
    case "setFailover":
      c.s = { ...c.s, config: { ...c.s.config, failover: event.on ? "on" : "off" } };
      c.fx.push({ kind: "setResource", name: "usersetting.failover", value: event.on ? "on" : "off" });
      break;
    case "replicationLost":
      // spec §7.1: a secondary that does not answer within locktimeout/sendtimeout is dropped: PRIM -> ALONE.
      if (c.s.local === "PRIM") {
        log(c, "U", msg.replicationLost(event.reason));
        enterAloneFromPrim(c);
      }
      break;
    case "waitRules":
      c.s = { ...c.s, ruleWait: event.status };
      break;
    case "witnessVerdict":
      if (!c.s.peer) c.s = { ...c.s, witnessOk: event.reachable };
      break;
    case "witnessGate":
      c.s = { ...c.s, config: { ...c.s.config, witnessGate: event.on } };
      break;
    case "syncatDue":
      if (c.s.syncatHold) {
        c.s = { ...c.s, syncatHold: false };
        c.fx.push({ kind: "setResource", name: "rfs.syncat", value: "up" });
        if (c.s.local === "WAIT" && c.s.waitReason === "syncat") log(c, "I", msg.syncatWakeup);
      }
      break;
    case "tick":
      break;
  }
  // Deferred stop-like commands and boot start run as soon as no action is running.
  if (!c.s.job && c.s.deferred) {
    const d = c.s.deferred;
    c.s = { ...c.s, deferred: null };
    if (c.s.local !== "STOP") beginStop(c, d.verb, d.verb);
    else if (d.verb === "stopstart") startModule(c, { kind: "auto" }, "start");
  }
  if (!c.s.job && c.s.bootStartAt !== null && now >= c.s.bootStartAt) {
    c.s = { ...c.s, bootStartAt: null };
    if (c.s.local === "STOP") {
      log(c, "U", msg.startAtBoot);
      startModule(c, { kind: "auto" }, "start");
    }
  }
  // Reactions may chain (e.g. ALONE -> PRIM -> swap); each one either starts a job or settles.
  for (let i = 0; i < 4 && !c.s.job; i++) {
    const before = c.s;
    evaluate(c);
    if (c.s === before) break;
  }
  refreshSyncTimestamp(c);
  publish(c);
  return { state: c.s, effects: c.fx };
}

function refreshSyncTimestamp(c: Ctx) {
  const paired = (c.s.local === "PRIM" || c.s.local === "SECOND") && c.s.qual === "Ready";
  const ts = c.s.persist.syncTimestamp;
  if (paired && (ts === null || c.now - ts >= c.s.config.syncRefreshMs)) {
    setPersist(c, { syncTimestamp: c.now });
  }
}

export function runtimeUptodate(s: MirrorState): boolean {
  if (isPrimaryState(s.local) && s.appRole === "primary") return true;
  if (s.local === "SECOND") return s.qual === "Ready" || s.swap === "handover";
  return s.persist.uptodate && !s.persist.stoppedDuringReintegration;
}

function payloadOf(s: MirrorState, epoch: number): HeartbeatPayload {
  return {
    node: s.config.node,
    state: s.local,
    qual: s.qual,
    uptodate: runtimeUptodate(s),
    syncTimestamp: s.persist.syncTimestamp,
    term: s.persist.term,
    formerSecond: s.formerSecond,
    swap: s.swap,
    swapNosync: s.swapNosync,
    requireFullSync: s.persist.nextResyncFull,
    primBeforeStart: s.primBeforeStart,
    epoch,
  };
}

/** Heartbeat payload, ready.txt and rfs.uptodate follow the state at the end of each step. */
function publish(c: Ctx) {
  if (isPrimaryState(c.s.local) && c.s.appRole === "primary" && c.s.persist.uptodate !== primaryUptodate(c)) {
    setPersist(c, { uptodate: primaryUptodate(c) });
  }
  const last = c.s.lastPayload;
  const candidate = payloadOf(c.s, last?.epoch ?? c.s.persist.epoch);
  if (!last || JSON.stringify(candidate) !== JSON.stringify(last)) {
    const epoch = c.s.persist.epoch + 1;
    const payload = { ...candidate, epoch };
    setPersist(c, { epoch });
    c.s = { ...c.s, lastPayload: payload };
    c.fx.push({ kind: "setHeartbeatPayload", payload });
  }
  const ready = isPrimaryState(c.s.local) && c.s.qual === "Ready";
  if (ready !== c.s.lastReady) {
    c.s = { ...c.s, lastReady: ready };
    c.fx.push({ kind: "readyChanged", ready });
  }
  const up = runtimeUptodate(c.s) ? "up" : "down";
  if (up !== c.s.lastUptodateResource) {
    c.s = { ...c.s, lastUptodateResource: up };
    c.fx.push({ kind: "setResource", name: "rfs.uptodate", value: up });
  }
}
