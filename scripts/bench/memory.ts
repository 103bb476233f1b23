// Measures the resident memory of an idle node service (cluster configured, two mirror modules installed and
// configured) from /proc/<pid>/status, against a bare `deno run` process that only does Deno.serve.
// Usage: deno run -A scripts/bench/memory.ts [--idle 5]
import { parseArgs } from "node:util";
import { procCmdline, procMemory, sleep, startBaseline, startBenchCluster } from "./bench_cluster.ts";

const GOAL_MB = 100;
const BASELINE_ADDR = "127.0.0.5";

const mb = (kb: number) => (kb / 1024).toFixed(1);

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { idle: { type: "string", default: "5" } } });
  const idleMs = Math.min(60, Math.max(1, Number(values.idle))) * 1000;

  console.log(
    "starting one node service (127.0.0.2) with two configured modules, and the baseline (127.0.0.5)...",
  );
  // cluster.xml names two nodes, as a real mirror cluster does; only node1 runs.
  const cluster = await startBenchCluster([["node1", "127.0.0.2"], ["node2", "127.0.0.3"]], [
    "mirror1",
    "mirror2",
  ], 1);
  let baseline: Awaited<ReturnType<typeof startBaseline>> | null = null;
  try {
    baseline = await startBaseline(BASELINE_ADDR);
    // TestNode spawns the deno binary itself (no wrapper), so the child's pid is the daemon's; check it.
    const daemonPid = cluster.running[0].child!.pid;
    const cmd = await procCmdline(daemonPid);
    if (cmd.at(-1) !== "daemon") throw new Error(`pid ${daemonPid} is not the daemon: ${cmd.join(" ")}`);
    await sleep(idleMs);
    const node = await procMemory(daemonPid);
    const base = await procMemory(baseline.child.pid);
    console.log(`\nafter ${idleMs / 1000} s idle:\n`);
    console.log("| process | VmRSS MB | VmHWM MB |");
    console.log("|---|---:|---:|");
    console.log(`| safekit daemon (pid ${daemonPid}, 2 modules) | ${mb(node.rssKb)} | ${mb(node.hwmKb)} |`);
    console.log(
      `| bare deno Deno.serve (pid ${baseline.child.pid}) | ${mb(base.rssKb)} | ${mb(base.hwmKb)} |`,
    );
    console.log(`\nratio safekit/baseline VmRSS: ${(node.rssKb / base.rssKb).toFixed(2)}`);
    console.log(
      `safekit VmRSS ${mb(node.rssKb)} MB (goal <= ${GOAL_MB} MB: ${
        node.rssKb / 1024 <= GOAL_MB ? "MET" : "NOT MET"
      })`,
    );
  } finally {
    await baseline?.close();
    await cluster.close();
  }
}

if (import.meta.main) await main();
