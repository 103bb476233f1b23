// The farm (and light) module automaton of ONE node: step(state, event, now) -> { state, effects }.
// Pure: no clock, no I/O. The driver feeds commands, the farm membership view, the failover machine's
// verdict on wait rules and script completions, and executes the effects. Spec §2.3, §6, §8; our
// choices for the gaps (spec §13), also in docs/farm.md:
// - start (from STOP): WAIT Transient, prestart, `transition STOP WAIT start`; then, with wait rules,
//   WAIT Transient while their resources are init and WAIT NotReady while one applies; else UP.
// - Entering UP: UP Transient, VIP traffic opened (unless scriptcontrol="on"), the node joins the farm
//   membership, start_both, `transition WAIT UP start`, UP Ready. The node owns buckets only from the
//   first membership view that includes it, so it never accepts packets its peers still own.
// - Leaving UP (stop, stopstart, shutdown, wait rule): stop_both graceful then forced, traffic closed,
//   the node leaves the farm and owns no bucket; stop adds poststop and `transition <from> STOP <action>`;
//   a wait rule adds `transition UP WAIT stopwait` and waits (no poststop: wait checkers keep running).
// - restart (UP Ready only): stop_both twice, start_both, with traffic closed in between; the node stays
//   in the farm membership so its peers do not take its buckets for a few seconds.
// - Script exit codes and timeouts never change the path: they are logged (E) and the next step runs.
// - Commands reply at once. stop/stopstart/shutdown during an action are deferred to its end;
//   forcestop kills the running script and runs only the forced stop_both, poststop and transition;
//   other commands during an action are refused. Mirror verbs are refused with a precise error.
// - Membership views: per group, the membership and the local load are logged when they change
//   (`farm membership: ...`, `farm load: N/256 (group G_0)`), with resource `G_0` and the effect
//   setBuckets. A light module ignores them.

import { assignBuckets, BUCKET_COUNT, bucketsOf, groupResourceName, loadPercent } from "./farm_buckets.ts";
import { farmMsg } from "./farm_messages.ts";
import type {
  FarmCommand,
  FarmConfig,
  FarmContinuation,
  FarmEffect,
  FarmEvent,
  FarmLocalState,
  FarmQualifier,
  FarmScriptName,
  FarmState,
  FarmStepResult,
  JobStep,
  LogLevel,
  ScriptArgs,
} from "./farm_types.ts";

export type * from "./farm_types.ts";

export function initialFarmState(config: FarmConfig): FarmState {
  return {
    config,
    local: "STOP",
    qual: "NotReady",
    job: null,
    nextRunId: 1,
    deferred: null,
    appStarted: false,
    trafficOpen: false,
    joined: false,
    waitStatus: config.waitRules ? "init" : "up",
    waitRule: null,
    members: [],
    groupViews: {},
    lastReady: false,
  };
}

/** Mutable accumulator used inside one step only; step() itself stays pure. */
type Ctx = { s: FarmState; fx: FarmEffect[] };

const isFarm = (c: Ctx) => c.s.config.mode === "farm";
const controlsTraffic = (c: Ctx) => isFarm(c) && c.s.config.vip && !c.s.config.scriptcontrol;

function log(c: Ctx, level: LogLevel, message: string, component = "heart") {
  c.fx.push({ kind: "log", component, level, message });
}

function setLocal(c: Ctx, local: FarmLocalState, qual: FarmQualifier) {
  if (c.s.local === local && c.s.qual === qual) return;
  c.s = { ...c.s, local, qual };
  log(c, "E", farmMsg.localState(local, qual));
  c.fx.push({ kind: "setResource", name: "state.local", value: `${local} ${qual}` });
}

// ---------------------------------------------------------------- jobs

const script = (name: FarmScriptName, args: ScriptArgs, force = false): JobStep => ({
  kind: "script",
  name,
  args,
  force,
});

function startJob(c: Ctx, action: string, steps: readonly JobStep[], then: FarmContinuation) {
  c.s = { ...c.s, job: { action, pending: steps, running: null, then } };
  runNext(c);
}

function runNext(c: Ctx) {
  for (;;) {
    const job = c.s.job;
    if (!job) return;
    const [next, ...rest] = job.pending;
    if (!next) {
      c.s = { ...c.s, job: null };
      return continueAfter(c, job.then);
    }
    if (next.kind === "traffic") {
      c.s = { ...c.s, job: { ...job, pending: rest } };
      setTraffic(c, next.open);
      continue;
    }
    if (next.kind === "farm") {
      c.s = { ...c.s, job: { ...job, pending: rest } };
      setJoined(c, next.join);
      continue;
    }
    const runId = c.s.nextRunId;
    c.s = {
      ...c.s,
      nextRunId: runId + 1,
      job: { ...job, pending: rest, running: { name: next.name, runId } },
    };
    if (next.name === "start_both") c.s = { ...c.s, appStarted: true };
    if (next.name === "stop_both" && next.force) c.s = { ...c.s, appStarted: false };
    log(c, "S", farmMsg.script(next.name), "userplug");
    c.fx.push({
      kind: "runScript",
      name: next.name,
      runId,
      args: next.args,
      ...(next.force ? { force: true } : {}),
    });
    return;
  }
}

function continueAfter(c: Ctx, then: FarmContinuation) {
  switch (then.kind) {
    case "started":
      return; // evaluate() decides WAIT or UP once no job runs
    case "enter":
      return setLocal(c, then.state, then.qual);
    case "stopped":
      c.s = { ...c.s, waitStatus: c.s.config.waitRules ? "init" : "up", waitRule: null };
      setLocal(c, "STOP", "NotReady");
      if (then.restart) {
        log(c, "U", farmMsg.startAutomatically);
        startModule(c);
      }
  }
}

// ---------------------------------------------------------------- traffic and membership

function setTraffic(c: Ctx, open: boolean) {
  if (!controlsTraffic(c) || c.s.trafficOpen === open) return;
  c.s = { ...c.s, trafficOpen: open };
  c.fx.push({ kind: open ? "openTraffic" : "closeTraffic" });
}

function setJoined(c: Ctx, join: boolean) {
  if (!isFarm(c) || c.s.joined === join) return;
  c.s = { ...c.s, joined: join };
  c.fx.push({ kind: join ? "joinFarm" : "leaveFarm" });
  if (!join) applyMembership(c);
}

/**
 * Recomputes every group's buckets from the last view. A node owns buckets only while it has joined and
 * the view includes it; otherwise it gives its buckets up (the others take them on their side).
 */
function applyMembership(c: Ctx) {
  if (!isFarm(c)) return;
  const self = c.s.config.node;
  const inView = c.s.joined && c.s.members.includes(self);
  const views = { ...c.s.groupViews };
  for (const group of c.s.config.groups) {
    const resource = groupResourceName(group.name);
    const last = views[group.name];
    const members = inView ? c.s.members : [];
    const buckets = inView ? bucketsOf(assignBuckets(group, members), self) : [];
    const sameMembers = last !== undefined && last.members.join(" ") === members.join(" ");
    const sameBuckets = last !== undefined && last.buckets.join(",") === buckets.join(",");
    if (sameMembers && sameBuckets) continue;
    if (inView) {
      if (!sameMembers) log(c, "I", farmMsg.membership(members, resource), "vipd");
      log(c, "I", farmMsg.load(buckets.length, resource), "vipd");
    }
    c.fx.push({ kind: "setBuckets", group: group.name, buckets });
    c.fx.push({ kind: "setResource", name: resource, value: loadPercent(buckets.length) });
    views[group.name] = { members, buckets };
  }
  c.s = { ...c.s, groupViews: views };
}

// ---------------------------------------------------------------- start, UP, wait, stop

function startModule(c: Ctx) {
  c.s = { ...c.s, waitStatus: c.s.config.waitRules ? "init" : "up", waitRule: null };
  setLocal(c, "WAIT", "Transient");
  const args = ["STOP", "WAIT", "start"] as const;
  startJob(c, "start", [script("prestart", args), script("transition", args)], { kind: "started" });
}

function enterUp(c: Ctx) {
  setLocal(c, "UP", "Transient");
  const args = ["WAIT", "UP", "start"] as const;
  startJob(c, "start", [
    { kind: "traffic", open: true },
    { kind: "farm", join: true },
    script("start_both", args),
    script("transition", args),
  ], { kind: "enter", state: "UP", qual: "Ready" });
}

/** stop_both graceful then forced, or only forced (forcestop); nothing when the application is not started. */
function stopBothSteps(c: Ctx, args: ScriptArgs, onlyForce: boolean): JobStep[] {
  if (!c.s.appStarted) return [];
  return onlyForce
    ? [script("stop_both", args, true)]
    : [script("stop_both", args), script("stop_both", args, true)];
}

function beginStop(c: Ctx, verb: FarmCommand["verb"]) {
  const from = c.s.local;
  const action = verb === "stopstart" ? "stopstart" : "stop";
  const args = [from, "STOP", action] as const;
  setLocal(c, from, "Transient");
  startJob(c, verb, [
    ...stopBothSteps(c, args, verb === "forcestop"),
    { kind: "traffic", open: false },
    { kind: "farm", join: false },
    script("poststop", args),
    script("transition", args),
  ], { kind: "stopped", restart: verb === "stopstart" });
}

function beginWait(c: Ctx, rule: string) {
  log(c, "E", farmMsg.actionFromRule("wait", rule));
  log(c, "E", farmMsg.transitionWait(rule));
  const args = ["UP", "WAIT", "stopwait"] as const;
  setLocal(c, "UP", "Transient");
  startJob(c, "wait", [
    ...stopBothSteps(c, args, false),
    { kind: "traffic", open: false },
    { kind: "farm", join: false },
    script("transition", args),
  ], { kind: "enter", state: "WAIT", qual: "NotReady" });
}

function beginRestart(c: Ctx) {
  const args = ["UP", "UP", "restart"] as const;
  setLocal(c, "UP", "Transient");
  startJob(c, "restart", [
    ...stopBothSteps(c, args, false),
    { kind: "traffic", open: false },
    { kind: "traffic", open: true },
    script("start_both", args),
  ], { kind: "enter", state: "UP", qual: "Ready" });
}

/** What to do once no action runs: follow the wait rules. */
function evaluate(c: Ctx) {
  const { local, qual, waitStatus, waitRule } = c.s;
  if (local === "WAIT") {
    if (waitStatus === "up") {
      if (qual === "NotReady") log(c, "E", farmMsg.wakeup);
      return enterUp(c);
    }
    if (waitStatus === "down") {
      if (qual === "Transient") log(c, "E", farmMsg.actionFromRule("wait", waitRule ?? "unknown"));
      return setLocal(c, "WAIT", "NotReady");
    }
    return setLocal(c, "WAIT", "Transient");
  }
  if (local === "UP" && qual === "Ready" && waitStatus === "down") beginWait(c, waitRule ?? "unknown");
}

// ---------------------------------------------------------------- commands

const mirrorVerbs = new Set(["swap", "prim", "second", "primforce", "secondforce"]);

function refuse(c: Ctx, cmd: FarmCommand, why: string) {
  c.fx.push({ kind: "reply", commandId: cmd.id, ok: false, error: `cannot '${cmd.verb}' module: ${why}` });
}

function accept(c: Ctx, cmd: FarmCommand) {
  c.fx.push({ kind: "reply", commandId: cmd.id, ok: true });
  log(
    c,
    "U",
    cmd.rule
      ? farmMsg.actionFromRule(cmd.verb, cmd.rule)
      : cmd.atBoot
      ? farmMsg.startAtBoot
      : farmMsg.action(cmd.verb, cmd.by),
  );
}

function onCommand(c: Ctx, cmd: FarmCommand) {
  const { verb } = cmd;
  const local = `${c.s.local} ${c.s.qual}`;
  const job = c.s.job;
  if (mirrorVerbs.has(verb)) {
    return refuse(c, cmd, `'${verb}' applies to mirror modules only; a ${c.s.config.mode} module uses start`);
  }
  if (verb === "forcestop") {
    accept(c, cmd);
    if (job?.running) c.fx.push({ kind: "killScript", name: job.running.name, runId: job.running.runId });
    c.s = { ...c.s, job: null, deferred: null };
    if (c.s.local === "STOP") return;
    return beginStop(c, "forcestop");
  }
  if (verb === "stop" || verb === "shutdown" || verb === "stopstart") {
    if (c.s.local === "STOP" && !job) {
      if (verb === "stopstart") return refuse(c, cmd, "it is not started (local state STOP NotReady)");
      return accept(c, cmd);
    }
    accept(c, cmd);
    if (job) {
      c.s = { ...c.s, deferred: cmd }; // applied when the running action ends
      return;
    }
    return beginStop(c, verb);
  }
  if (job) {
    return refuse(c, cmd, `action '${job.action}' is in progress (local state ${local}); retry when it ends`);
  }
  if (verb === "start") {
    if (c.s.local !== "STOP") {
      return refuse(c, cmd, `it is already started (local state ${local}); stop it first`);
    }
    accept(c, cmd);
    return startModule(c);
  }
  // restart
  if (c.s.local !== "UP" || c.s.qual !== "Ready") {
    return refuse(c, cmd, `it is not UP Ready (local state ${local})`);
  }
  accept(c, cmd);
  beginRestart(c);
}

// ---------------------------------------------------------------- step

export function step(state: FarmState, event: FarmEvent, _now: number): FarmStepResult {
  const c: Ctx = { s: state, fx: [] };
  switch (event.kind) {
    case "command":
      onCommand(c, event);
      break;
    case "membership": {
      if (!isFarm(c)) break;
      c.s = { ...c.s, members: [...new Set(event.members)].sort() };
      applyMembership(c);
      break;
    }
    case "waitRules":
      if (!c.s.config.waitRules) break;
      // Once running, resources never go back to init: an init verdict then means nothing new.
      if (event.status === "init" && c.s.local === "UP") break;
      c.s = {
        ...c.s,
        waitStatus: event.status,
        waitRule: event.status === "down" ? event.rule ?? null : null,
      };
      break;
    case "scriptFinished": {
      const running = c.s.job?.running;
      const matches = running &&
        (event.runId !== undefined ? event.runId === running.runId : event.script === running.name);
      if (!matches) break; // a killed or unknown script
      if (event.timedOut) log(c, "E", farmMsg.scriptTimedOut(event.script), "userplug");
      else if (event.exitCode !== 0) {
        log(c, "E", farmMsg.scriptFailed(event.script, event.exitCode), "userplug");
      }
      c.s = { ...c.s, job: { ...c.s.job!, running: null } };
      runNext(c);
      break;
    }
    case "tick":
      break;
  }
  if (!c.s.job && c.s.deferred) {
    const d = c.s.deferred;
    c.s = { ...c.s, deferred: null };
    if (c.s.local !== "STOP") beginStop(c, d.verb);
    else if (d.verb === "stopstart") {
      log(c, "U", farmMsg.startAutomatically);
      startModule(c);
    }
  }
  if (!c.s.job && c.s.local !== "STOP") evaluate(c);
  const ready = c.s.local === "UP" && c.s.qual === "Ready";
  if (ready !== c.s.lastReady) {
    c.s = { ...c.s, lastReady: ready };
    c.fx.push({ kind: "readyChanged", ready });
  }
  return { state: c.s, effects: c.fx };
}

/** Buckets this node holds per group (for `vip_if_ctrl -l` and the console). */
export function ownedBuckets(s: FarmState): Record<string, readonly number[]> {
  return Object.fromEntries(Object.entries(s.groupViews).map(([g, v]) => [g, v.buckets]));
}

export { BUCKET_COUNT };
