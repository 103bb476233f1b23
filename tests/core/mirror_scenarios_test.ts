// Scenario tables for the mirror automaton: two nodes running the real step() on a quiet virtual
// network (scripts take 100 ms, a reintegration 2 s, heartbeat timeout 5 s, pulse 700 ms).
// Each row: actions at given times -> states at the end, module-log lines (in this order), scripts run.
import assert from "node:assert/strict";
import { MirrorSim, quietNetwork, type SimOptions } from "../sim/mirror_sim.ts";
import type { CommandVerb } from "../../src/core/mirror_types.ts";

type Node = "node1" | "node2";
type Fault = "crash" | "reboot" | "total" | "heal" | "pause" | "resume";
type Act = readonly [
  at: number,
  node: Node,
  what: CommandVerb | Fault,
  extra?: { fullsync?: boolean; nosync?: boolean },
];

type Scenario = {
  readonly name: string;
  readonly options?: Partial<SimOptions>;
  readonly acts: readonly Act[];
  readonly until: number;
  /** "node1 state / node2 state" at `until` */
  readonly states: string;
  /** lines that must appear in the node's log, in this order (other lines may come between) */
  readonly logs?: Partial<Record<Node, readonly string[]>>;
  readonly absent?: Partial<Record<Node, readonly string[]>>;
  /** exactly the scripts the node ran from `scriptsFrom` on */
  readonly scripts?: Partial<Record<Node, readonly string[]>>;
  readonly scriptsFrom?: number;
  /** replies to the commands of the node, in order: "ok" or the error text */
  readonly replies?: Partial<Record<Node, readonly string[]>>;
  readonly resyncs?: Partial<Record<Node, readonly string[]>>;
};

const primSecond: readonly Act[] = [[0, "node1", "prim"], [3000, "node2", "second"]];
const startScripts = ["prestart", "transition", "start_both", "start_sec", "start_prim", "transition"];

const scenarios: readonly Scenario[] = [
  {
    name: "start on both nodes after first configuration: both WAIT NotReady, data not up to date",
    acts: [[0, "node1", "start"], [0, "node2", "start"]],
    until: 10_000,
    states: "WAIT NotReady / WAIT NotReady",
    logs: {
      node1: [
        "Action start called by root",
        "Action wait from failover rule rfs_notuptodate_server",
        "Data may be not uptodate for replicated directories (wait for the start of the remote server)",
        "If you are sure that this server has valid data, run safekit stop, then safekit prim to force start as primary",
        "Local state WAIT NotReady",
      ],
    },
    replies: { node1: ["ok"], node2: ["ok"] },
  },
  {
    name: "prim then second: ALONE, then PRIM Ready / SECOND Ready after a full reintegration",
    acts: primSecond,
    until: 10_000,
    states: "PRIM Ready / SECOND Ready",
    logs: {
      node1: [
        "Action prim called by root",
        "Script start_prim",
        "Local state ALONE Ready",
        "Remote state SECOND Ready",
        "Local state PRIM Ready",
      ],
      node2: [
        "Action second called by root",
        "Local state SECOND Transient",
        "Local state SECOND Ready",
        "Remote state PRIM Ready",
      ],
    },
    scripts: {
      node1: startScripts,
      node2: ["prestart", "transition", "start_both", "start_sec", "start_second"],
    },
    resyncs: { node2: ["full"] },
  },
  {
    name: "prim while the peer is primary is refused with a precise error",
    acts: [...primSecond, [10_000, "node2", "stop"], [12_000, "node2", "prim"]],
    until: 13_000,
    states: "ALONE Ready / STOP NotReady",
    replies: {
      node2: [
        "ok",
        "ok",
        "cannot 'prim' module: the remote node is already ALONE (use 'safekit swap' or stop it first)",
      ],
    },
  },
  {
    name: "second while the peer is not primary, start twice, restart in WAIT: refused",
    acts: [[500, "node1", "second"], [1000, "node1", "start"], [1050, "node1", "start"], [
      8000,
      "node1",
      "restart",
    ]],
    until: 9000,
    states: "WAIT NotReady / STOP NotReady",
    replies: {
      node1: [
        "cannot 'second' module: the remote node is not primary (remote state STOP NotReady)",
        "ok",
        "cannot 'start' module: action 'start' is in progress (local state WAIT Transient); retry when it ends",
        "cannot 'restart' module: it is not PRIM, ALONE or SECOND Ready (local state WAIT NotReady)",
      ],
    },
  },
  {
    name: "stop on PRIM: the secondary goes ALONE on remote stop",
    acts: [...primSecond, [10_000, "node1", "stop"]],
    until: 14_000,
    states: "STOP NotReady / ALONE Ready",
    logs: {
      node1: ["Action stop called by root", "Script stop_prim", "Local state STOP NotReady"],
      node2: [
        "Remote state STOP NotReady",
        "Action alone called by heart: remote stop",
        "Script start_prim",
        "Local state ALONE Ready",
      ],
    },
    scriptsFrom: 10_000,
    scripts: {
      node1: [
        "stop_prim",
        "stop_prim force",
        "stop_sec",
        "stop_sec force",
        "stop_both",
        "stop_both force",
        "poststop",
        "transition",
      ],
      node2: ["stop_second", "stop_second force", "start_prim"],
    },
  },
  {
    name: "later start of the stopped node: SECOND after a zone reintegration, the ALONE node becomes PRIM",
    acts: [...primSecond, [10_000, "node1", "stop"], [14_000, "node1", "start"]],
    until: 22_000,
    states: "SECOND Ready / PRIM Ready",
    logs: {
      node1: ["Action start called by root", "Local state SECOND Transient", "Local state SECOND Ready"],
    },
    resyncs: { node1: ["zones"] },
  },
  {
    name: "kill of PRIM: the secondary goes ALONE after the heartbeat timeout",
    acts: [...primSecond, [10_000, "node1", "crash"]],
    until: 16_000,
    states: "DOWN / ALONE Ready",
    logs: {
      node2: [
        "Resource heartbeat.default set to down by heart",
        "Resource heartbeat.flow set to down by heart",
        "Remote state UNKNOWN Unknown",
        "Action alone called by heart: no heartbeat",
        "Script start_prim",
        "Local state ALONE Ready",
      ],
    },
  },
  {
    name: "restart on PRIM: stop_prim then start_prim, PRIM Transient then Ready, no failover",
    acts: [...primSecond, [10_000, "node1", "restart"]],
    until: 12_000,
    states: "PRIM Ready / SECOND Ready",
    logs: {
      node1: ["Action restart called by root", "Local state PRIM Transient", "Local state PRIM Ready"],
    },
    absent: { node2: ["Action alone called by heart: remote stop"] },
    scriptsFrom: 10_000,
    scripts: { node1: ["stop_prim", "stop_prim force", "start_prim"], node2: [] },
  },
  {
    name: "stopstart on PRIM: failover, the node comes back as SECOND",
    acts: [...primSecond, [10_000, "node1", "stopstart"]],
    until: 20_000,
    states: "SECOND Ready / PRIM Ready",
    logs: {
      node1: [
        "Action stopstart called by root",
        "Local state STOP NotReady",
        "Action start called automatically",
        "Local state SECOND Ready",
      ],
      node2: [
        "Action alone called by heart: remote stop",
        "Local state ALONE Ready",
        "Local state PRIM Ready",
      ],
    },
  },
  {
    name: "failover off: the secondary does not take over, restarting the old primary restores the pair",
    options: { config: { failover: "off" } },
    acts: [...primSecond, [10_000, "node1", "stop"], [15_000, "node1", "start"]],
    until: 25_000,
    states: "PRIM Ready / SECOND Ready",
    logs: {
      node2: [
        "Failover-off configured",
        "Action stopstart called by failover-off",
        "Transition STOPSTART from failover-off",
        "Local state WAIT NotReady",
        "Local state SECOND Ready",
      ],
    },
    absent: { node2: ["Action alone called by heart: remote stop", "Local state ALONE Ready"] },
  },
  {
    name: "defaultprim=node1: after node1 reintegrates, an automatic swap makes it primary again",
    options: { config: { defaultprim: { kind: "node", node: "node1" } } },
    acts: [...primSecond, [10_000, "node1", "stop"], [14_000, "node1", "start"]],
    until: 30_000,
    states: "PRIM Ready / SECOND Ready",
    logs: {
      node2: [
        "Local state ALONE Ready",
        "Local state PRIM Ready",
        "Transition SWAP from defaultprim",
        "Begin of Swap",
        "Local state SECOND Ready",
      ],
    },
  },
  {
    name: "defaultprim=lastprim: the restarted former primary gets the application back",
    options: { config: { defaultprim: { kind: "lastprim" } } },
    acts: [...primSecond, [10_000, "node1", "stop"], [14_000, "node1", "start"]],
    until: 30_000,
    states: "PRIM Ready / SECOND Ready",
    logs: { node2: ["Transition SWAP from defaultprim", "Begin of Swap"] },
  },
  {
    name: "defaultprim=alone: the application stays where it is",
    acts: [...primSecond, [10_000, "node1", "stop"], [14_000, "node1", "start"]],
    until: 30_000,
    states: "SECOND Ready / PRIM Ready",
    absent: { node2: ["Transition SWAP from defaultprim"] },
  },
  {
    name: "swap on PRIM: stop_prim on the primary, start_prim on the other, roles exchanged",
    acts: [...primSecond, [10_000, "node1", "swap"]],
    until: 16_000,
    states: "SECOND Ready / PRIM Ready",
    logs: {
      node1: ["Action swap called by root", "Begin of Swap", "Script stop_prim", "Local state SECOND Ready"],
      node2: ["Begin of Swap", "Script start_prim", "Local state PRIM Ready"],
    },
    resyncs: { node1: ["zones"] },
  },
  {
    name: "swap nosync asked on the SECOND: roles exchanged without reintegration",
    acts: [...primSecond, [10_000, "node2", "swap", { nosync: true }]],
    until: 14_000,
    states: "SECOND Ready / PRIM Ready",
    resyncs: { node1: [] },
    replies: { node2: ["ok", "ok"] },
  },
  {
    name: "swap without a PRIM/SECOND pair is refused",
    acts: [[0, "node1", "prim"], [4000, "node1", "swap"]],
    until: 5000,
    states: "ALONE Ready / STOP NotReady",
    replies: {
      node1: [
        "ok",
        "cannot 'swap' module: it needs a PRIM Ready / SECOND Ready pair (local ALONE Ready, remote STOP NotReady)",
      ],
    },
  },
  {
    name: "split brain: both ALONE under total heartbeat loss, the former SECOND exits alone on reconnection",
    acts: [...primSecond, [10_000, "node1", "total"], [20_000, "node1", "heal"]],
    until: 35_000,
    states: "PRIM Ready / SECOND Ready",
    logs: {
      node1: [
        "Remote state UNKNOWN Unknown",
        "Local state ALONE Ready",
        "Remote state ALONE Ready",
        "Split brain recovery: staying alone",
      ],
      node2: [
        "Action alone called by heart: no heartbeat",
        "Local state ALONE Ready",
        "Remote state ALONE Ready",
        "Split brain recovery: exiting alone",
        "Script stop_prim",
        "Action start called automatically",
        "Local state SECOND Ready",
      ],
    },
  },
  {
    name:
      "stopped during reintegration: prim refused with the two messages, primforce allowed, next resync full",
    acts: [
      [0, "node1", "prim"],
      [3000, "node2", "second"],
      [4000, "node2", "stop"],
      [6000, "node1", "stop"],
      [9000, "node2", "prim"],
      [10_000, "node2", "primforce"],
      [14_000, "node1", "start"],
    ],
    until: 24_000,
    states: "SECOND Ready / PRIM Ready",
    logs: {
      node2: [
        "Data may be inconsistent for replicated directories (stopped during reintegration)",
        "If you are sure that this server has valid data, run safekit primforce to force start as primary",
        "Action primforce called by root",
        "Local state ALONE Ready",
      ],
    },
    replies: {
      node2: [
        "ok",
        "ok",
        "cannot 'prim' module: data may be inconsistent for replicated directories (stopped during reintegration); " +
        "if you are sure this server has valid data, run 'safekit primforce'",
        "ok",
      ],
    },
    resyncs: { node1: ["full"] },
  },
  {
    name:
      "the not-up-to-date node started alone waits for the other (notuptodate_server), then becomes SECOND",
    acts: [...primSecond, [10_000, "node2", "stop"], [13_000, "node1", "stop"], [16_000, "node2", "start"], [
      22_000,
      "node1",
      "start",
    ]],
    until: 32_000,
    states: "PRIM Ready / SECOND Ready",
    logs: {
      node2: [
        "Action wait from failover rule rfs_notuptodate_server",
        "Local state WAIT NotReady",
        "Remote state ALONE Ready",
        "Local state SECOND Ready",
      ],
    },
  },
  {
    name: "prim fullsync: the next reintegration of the secondary is full",
    acts: [[0, "node1", "prim", { fullsync: true }], [3000, "node2", "second"], [10_000, "node2", "stop"], [
      12_000,
      "node2",
      "start",
    ]],
    until: 20_000,
    states: "PRIM Ready / SECOND Ready",
    resyncs: { node2: ["full", "zones"] },
  },
  {
    name: "second fullsync forces a full reintegration",
    acts: [...primSecond, [10_000, "node2", "stop"], [12_000, "node2", "second", { fullsync: true }]],
    until: 20_000,
    states: "PRIM Ready / SECOND Ready",
    resyncs: { node2: ["full", "full"] },
  },
  {
    name: "boot=auto restarts a module that was running before the crash; it becomes SECOND",
    acts: [...primSecond, [10_000, "node2", "crash"], [12_000, "node2", "reboot"]],
    until: 20_000,
    states: "PRIM Ready / SECOND Ready",
    logs: { node2: ["Action start called at boot time", "Local state SECOND Ready"] },
  },
  {
    name: "shutdown of PRIM: scripts stopped, the peer sees a remote stop",
    acts: [...primSecond, [10_000, "node1", "shutdown"]],
    until: 13_000,
    states: "STOP NotReady / ALONE Ready",
    logs: {
      node1: ["Action shutdown called by root", "Local state STOP NotReady"],
      node2: ["Action alone called by heart: remote stop"],
    },
  },
  {
    name: "scripts that fail never wedge the automaton",
    options: { scriptFailRate: 1 },
    acts: primSecond,
    until: 10_000,
    states: "PRIM Ready / SECOND Ready",
    logs: { node1: ["Script start_prim failed with exit code 1", "Local state ALONE Ready"] },
  },
];

function fire(sim: MirrorSim, [, node, what, extra]: Act) {
  switch (what) {
    case "crash":
      return sim.crash(node);
    case "reboot":
      return sim.restart(node);
    case "total":
      return sim.partition("total");
    case "heal":
      return sim.partition("heal");
    case "pause":
      return sim.pause(node);
    case "resume":
      return sim.resume(node);
    default:
      sim.command(node, what, extra);
  }
}

function isSubsequence(wanted: readonly string[], lines: readonly string[]) {
  let i = 0;
  for (const l of lines) if (i < wanted.length && l === wanted[i]) i++;
  return i === wanted.length;
}

for (const s of scenarios) {
  Deno.test(`mirror scenario: ${s.name}`, () => {
    const sim = new MirrorSim({ ...quietNetwork, seed: 7, ...s.options });
    const commandIds: Record<Node, string[]> = { node1: [], node2: [] };
    for (const act of [...s.acts].sort((a, b) => a[0] - b[0])) {
      sim.runUntil(act[0]);
      const before = sim.node(act[1]).replies.size;
      fire(sim, act);
      if (sim.node(act[1]).replies.size > before) {
        commandIds[act[1]].push([...sim.node(act[1]).replies.keys()].at(-1)!);
      }
    }
    sim.runUntil(s.until);
    const states = (["node1", "node2"] as const).map((n) => {
      const node = sim.node(n);
      return node.up ? `${node.state.local} ${node.state.qual}` : "DOWN";
    });
    const dump = (n: Node) => sim.node(n).logs.map((l) => `${l.t} ${l.level} ${l.message}`).join("\n");
    assert.equal(states.join(" / "), s.states, `node1:\n${dump("node1")}\nnode2:\n${dump("node2")}`);
    for (const n of ["node1", "node2"] as const) {
      const lines = sim.node(n).logs.map((l) => l.message);
      if (s.logs?.[n]) {
        assert.ok(
          isSubsequence(s.logs[n]!, lines),
          `${n} log lacks, in order:\n${s.logs[n]!.join("\n")}\n---\n${dump(n)}`,
        );
      }
      for (const m of s.absent?.[n] ?? []) assert.ok(!lines.includes(m), `${n} log must not contain: ${m}`);
      if (s.scripts?.[n]) {
        const ran = sim.node(n).scriptRuns.filter((r) => r.t >= (s.scriptsFrom ?? 0)).map((r) => r.script);
        assert.deepEqual(ran, s.scripts[n]);
      }
      if (s.replies?.[n]) {
        const got = commandIds[n].map((id) => {
          const r = sim.node(n).replies.get(id)!;
          return r.ok ? "ok" : r.error!;
        });
        assert.deepEqual(got, s.replies[n]);
      }
      if (s.resyncs?.[n]) assert.deepEqual(sim.node(n).resyncs, s.resyncs[n]);
    }
    assert.deepEqual(sim.violations, []);
  });
}
