// What the node service exposes at /metrics, for Prometheus: module states and resources as values,
// cluster membership, heartbeat and membership packet counters, script runs and durations, memory.
import { VERSION } from "../cli/version.ts";
import { type Family, renderPrometheus, type Sample } from "../web/prometheus.ts";
import { STATE_EXIT_CODE } from "./module_states.ts";
import type { NodeService } from "./node_service.ts";

const QUALIFIER_CODE: Record<string, number> = { NotReady: 0, Transient: 1, Ready: 2 };

/** Resource values as numbers: up 1, down 0, init -1, unknown -2; numeric values as they are. */
export function resourceNumber(value: string): number | null {
  switch (value) {
    case "up":
      return 1;
    case "down":
      return 0;
    case "init":
      return -1;
    case "unknown":
      return -2;
  }
  const n = Number(value);
  return value.trim() !== "" && Number.isFinite(n) ? n : null;
}

function packetSamples(
  module: string,
  c: { sent: number; received: number; accepted: number; dropped: Readonly<Record<string, number>> },
): Sample[] {
  return [
    { labels: { module, result: "sent" }, value: c.sent },
    { labels: { module, result: "received" }, value: c.received },
    { labels: { module, result: "accepted" }, value: c.accepted },
    ...Object.entries(c.dropped).map(([reason, v]) => ({
      labels: { module, result: `dropped_${reason}` },
      value: v,
    })),
  ];
}

export function nodeMetrics(s: NodeService): string {
  const node = s.cluster.active?.localNode ?? "";
  const modules = s.modules.list();
  const state: Sample[] = [];
  const qualifier: Sample[] = [];
  const ready: Sample[] = [];
  const resources: Sample[] = [];
  const heartbeats: Sample[] = [];
  const heartbeatRtt: Sample[] = [];
  const replBytes: Sample[] = [];
  const replBacklog: Sample[] = [];
  const farmPackets: Sample[] = [];
  const scriptRuns: Sample[] = [];
  const scriptDur: Sample[] = [];
  for (const m of modules) {
    const labels = { module: m.name, mode: m.mode };
    if (m.state) {
      state.push({ labels, value: STATE_EXIT_CODE[m.state.local] });
      qualifier.push({ labels: { module: m.name }, value: QUALIFIER_CODE[m.state.qualifier] ?? -1 });
      ready.push({ labels: { module: m.name }, value: s.isReady(m.name) ? 1 : 0 });
    }
    for (const r of m.resources?.list() ?? []) {
      const v = resourceNumber(String(r.value));
      if (v !== null) resources.push({ labels: { module: m.name, resource: r.name }, value: v });
    }
    const em = m.engine?.metrics();
    if (em?.heartbeats) heartbeats.push(...packetSamples(m.name, em.heartbeats));
    if (em?.replication) {
      const r = em.replication;
      replBytes.push({ labels: { module: m.name, flow: "replication" }, value: r.bytesSent });
      replBytes.push({ labels: { module: m.name, flow: "reintegration" }, value: r.reiBytes });
      replBacklog.push({ labels: { module: m.name }, value: r.backlogOps });
    }
    for (const [heartbeat, ms] of Object.entries(em?.heartbeatRttMs ?? {})) {
      heartbeatRtt.push({ labels: { module: m.name, heartbeat }, value: ms / 1000 });
    }
    if (em?.membership) farmPackets.push(...packetSamples(m.name, em.membership));
    for (const [script, st] of em?.scripts ?? []) {
      for (
        const [outcome, v] of [["ok", st.runs - st.failures - st.timeouts], ["failed", st.failures], [
          "timeout",
          st.timeouts,
        ]] as const
      ) {
        scriptRuns.push({ labels: { module: m.name, script, outcome }, value: v });
      }
      scriptDur.push({ labels: { module: m.name, script }, value: st.lastDurationMs / 1000 });
    }
  }
  const view = s.membershipView();
  const counters = s.membershipCounters();
  const families: Family[] = [
    {
      name: "safekit_node_info",
      help: "This node service: node name and version",
      type: "gauge",
      samples: [{ labels: { node, version: VERSION }, value: 1 }],
    },
    {
      name: "safekit_module_state",
      help: "Local state as safekit state -lq codes: STOP 0, WAIT 1, ALONE/UP 2, PRIM 3, SECOND 4",
      type: "gauge",
      samples: state,
    },
    {
      name: "safekit_module_qualifier",
      help: "State qualifier: NotReady 0, Transient 1, Ready 2",
      type: "gauge",
      samples: qualifier,
    },
    {
      name: "safekit_module_ready",
      help: "1 when ready.txt answers 200 (PRIM/ALONE Ready, UP Ready)",
      type: "gauge",
      samples: ready,
    },
    {
      name: "safekit_resource_value",
      help: "Module resources: up 1, down 0, init -1, unknown -2, numbers as they are",
      type: "gauge",
      samples: resources,
    },
    {
      name: "safekit_cluster_node_up",
      help: "Cluster membership as this node sees it",
      type: "gauge",
      samples: view.map((n) => ({ labels: { node: n.node }, value: n.up ? 1 : 0 })),
    },
    {
      name: "safekit_membership_packets_total",
      help: "Cluster membership datagrams by result",
      type: "counter",
      samples: Object.entries(counters).map(([result, v]) => ({ labels: { result }, value: v })),
    },
    {
      name: "safekit_heartbeat_packets_total",
      help: "Mirror heartbeat datagrams by module and result",
      type: "counter",
      samples: heartbeats,
    },
    {
      name: "safekit_replication_bytes_total",
      help: "Bytes the primary sent to its secondary: live replication, and reintegration reads it served " +
        "(since its replication process started)",
      type: "counter",
      samples: replBytes,
    },
    {
      name: "safekit_replication_backlog_ops",
      help: "Replicated operations sent and not yet acknowledged by the secondary",
      type: "gauge",
      samples: replBacklog,
    },
    {
      name: "safekit_heartbeat_rtt_seconds",
      help: "Last round trip of each mirror heartbeat link (echoed sequence numbers, no clock sync needed)",
      type: "gauge",
      samples: heartbeatRtt,
    },
    {
      name: "safekit_farm_membership_packets_total",
      help: "Farm membership datagrams by module and result",
      type: "counter",
      samples: farmPackets,
    },
    {
      name: "safekit_script_runs_total",
      help: "Module script runs by outcome",
      type: "counter",
      samples: scriptRuns,
    },
    {
      name: "safekit_script_last_duration_seconds",
      help: "Duration of the last run of each module script",
      type: "gauge",
      samples: scriptDur,
    },
    {
      name: "safekit_process_resident_bytes",
      help: "Resident memory of the node service",
      type: "gauge",
      samples: [{ value: Deno.memoryUsage().rss }],
    },
  ];
  return renderPrometheus(families);
}
