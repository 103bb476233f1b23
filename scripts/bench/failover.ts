// Failover benchmark: how fast a mirror module's secondary takes over after kill -9 of the primary's node
// service, and whether heartbeats survive 100 % CPU load without a false failover. Two real node services on
// 127.0.0.2 / 127.0.0.3 (through the integration-test harness), heartbeat pulse 200 ms / timeout 1 s.
// Baselines in the same invocation: the configured heartbeat timeout as the detection floor, and, when
// keepalived is installed and the script runs as root, keepalived (advert_int 1) measured in two network
// namespaces this script creates and removes itself.
//
//   deno run -A scripts/bench/failover.ts [--runs 20] [--load-seconds 60] [--keepalived-runs 5]
import { parseArgs } from "node:util";
import { join } from "node:path";
import { type TestNode, withNodes } from "../../tests/integration/node_harness.ts";
import {
  MODULE,
  scriptRuns,
  setupMirror,
  stateOf,
  waitState,
} from "../../tests/integration/mirror_harness.ts";
import { median, sleep, waitPortsFree, WEB_PORT } from "./bench_cluster.ts";

const NODES: [string, string][] = [["node1", "127.0.0.2"], ["node2", "127.0.0.3"]];
const HEARTBEAT_TIMEOUT_MS = 1000;
const PULSE_MS = 200;
/** A run that has not called start_prim on the survivor this long after the kill did not fail over. */
const FAILOVER_LIMIT_MS = 10_000;
const GOAL = { medianMs: 1500, maxMs: 2000, falseFailovers: 0 };
/** Published reference figures, not measured here. */
const KEEPALIVED_PUBLISHED_MS = 3600; // 3 × advert_int (1 s) + skew ((256 - priority) / 256 s)
const SAFEKIT_DEFAULT_DETECTION_MS = 30_000;

/** The p-th percentile by the nearest-rank method (p in 0..100). */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

const fmt = (ms: number) => Number.isFinite(ms) ? `${Math.round(ms)} ms` : "n/a";
const ratio = (a: number, b: number) => Number.isFinite(a) && b > 0 ? (a / b).toFixed(2) : "n/a";

// ---------------------------------------------------------------- 1. detection and takeover after kill -9

type TakeoverRun = { killed: string; survivor: string; delayMs: number | null };

/** Polls the survivor's scripts.log (bounded) for the first start_prim written after `since`. */
async function startPrimAfter(node: TestNode, since: number, limitMs: number): Promise<number | null> {
  const deadline = since + limitMs;
  while (Date.now() <= deadline) {
    const hit = (await scriptRuns(node)).find((r) => r.script === "start_prim" && r.at >= since);
    if (hit) return hit.at;
    await sleep(50);
  }
  return null;
}

/** Brings a killed node service back and its module up as SECOND next to the survivor (PRIM). */
async function rejoin(killed: TestNode, survivor: TestNode): Promise<void> {
  await killed.start();
  await killed.ok("start", "-m", MODULE);
  await waitState(killed, "SECOND Ready", 30_000);
  await waitState(survivor, "PRIM Ready", 30_000);
}

async function measureTakeovers(n1: TestNode, n2: TestNode, runs: number): Promise<TakeoverRun[]> {
  const results: TakeoverRun[] = [];
  // The killed primary rejoins as SECOND and the survivor stays PRIM: the primary alternates by itself.
  let [prim, second] = [n1, n2];
  for (let i = 0; i < runs; i++) {
    // A random settle decorrelates the kill from the 200 ms heartbeat phase.
    await sleep(500 + Math.random() * 500);
    const killedAt = Date.now();
    prim.kill("SIGKILL");
    await prim.waitExit();
    const at = await startPrimAfter(second, killedAt, FAILOVER_LIMIT_MS);
    const run = { killed: prim.name, survivor: second.name, delayMs: at === null ? null : at - killedAt };
    results.push(run);
    console.log(
      `run ${i + 1}/${runs}: kill -9 ${run.killed}, start_prim on ${run.survivor} ${
        run.delayMs === null ? `not within ${FAILOVER_LIMIT_MS} ms` : `after ${run.delayMs} ms`
      }`,
    );
    await waitState(second, "ALONE Ready", 20_000);
    await rejoin(prim, second);
    [prim, second] = [second, prim];
  }
  return results;
}

// ---------------------------------------------------------------- 2. false failovers under CPU load

type LoadResult = {
  seconds: number;
  spinners: number;
  cpuBusyPct: number;
  polls: number;
  unanswered: number;
  stateChanges: string[];
  roleScripts: string[];
};

/** Busy and total jiffies over all CPUs, from the first line of /proc/stat. */
async function cpuTimes(): Promise<{ busy: number; total: number }> {
  const f = (await Deno.readTextFile("/proc/stat")).split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] ?? 0);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

async function roleScriptLines(nodes: readonly TestNode[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const n of nodes) {
    out.set(
      n.name,
      (await scriptRuns(n)).filter((r) => r.script === "start_prim" || r.script === "stop_prim")
        .map((r) => `${n.name}: ${r.at} ${r.script} ${r.args}`),
    );
  }
  return out;
}

async function measureUnderLoad(nodes: readonly TestNode[], seconds: number): Promise<LoadResult> {
  const expected = new Map<string, string>();
  for (const n of nodes) {
    const s = await stateOf(n);
    if (!s || !["PRIM Ready", "SECOND Ready"].includes(`${s.local} ${s.qualifier}`)) {
      throw new Error(`${n.name} is not PRIM/SECOND Ready before the load: ${JSON.stringify(s)}`);
    }
    expected.set(n.name, `${s.local} ${s.qualifier}`);
  }
  const before = await roleScriptLines(nodes);
  const spinners = navigator.hardwareConcurrency || 2;
  const children: Deno.ChildProcess[] = [];
  const result: LoadResult = {
    seconds,
    spinners,
    cpuBusyPct: NaN,
    polls: 0,
    unanswered: 0,
    stateChanges: [],
    roleScripts: [],
  };
  try {
    for (let i = 0; i < spinners; i++) {
      children.push(
        new Deno.Command("sh", { args: ["-c", "while :; do :; done"], stdin: "null", stdout: "null" })
          .spawn(),
      );
    }
    const cpu0 = await cpuTimes();
    const deviating = new Set<string>();
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      const tick = Date.now();
      const states = await Promise.all(nodes.map((n) => stateOf(n)));
      result.polls++;
      for (const [i, n] of nodes.entries()) {
        const s = states[i];
        // An API answer slower than 1 s under load is not a failover: counted apart.
        if (!s) {
          result.unanswered++;
          continue;
        }
        const now = `${s.local} ${s.qualifier}`;
        if (now !== expected.get(n.name) && !deviating.has(n.name)) {
          deviating.add(n.name);
          result.stateChanges.push(
            `${n.name}: ${expected.get(n.name)} -> ${now} at +${tick - (end - seconds * 1000)} ms`,
          );
        } else if (now === expected.get(n.name)) deviating.delete(n.name);
      }
      await sleep(Math.max(0, 100 - (Date.now() - tick)));
    }
    const cpu1 = await cpuTimes();
    result.cpuBusyPct = (100 * (cpu1.busy - cpu0.busy)) / Math.max(1, cpu1.total - cpu0.total);
  } finally {
    for (const c of children) {
      try {
        c.kill("SIGKILL");
      } catch { /* already gone */ }
      await c.status;
    }
  }
  const after = await roleScriptLines(nodes);
  for (const n of nodes) result.roleScripts.push(...after.get(n.name)!.slice(before.get(n.name)!.length));
  return result;
}

// ---------------------------------------------------------------- 3. keepalived baseline (root only)

const KA = {
  ns: ["skbench-ka1", "skbench-ka2"],
  dev: ["skbka1", "skbka2"],
  addr: ["127.0.0.21", "127.0.0.22"],
  vip: "127.0.0.30",
  priority: [150, 100],
};

type KeepalivedResult = { skipped: string } | { delaysMs: (number | null)[] };

async function run(cmd: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped" }).output();
  if (out.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

async function nsPids(ns: string): Promise<number[]> {
  const out = await new Deno.Command("ip", { args: ["netns", "pids", ns], stderr: "null" }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter(Boolean).map(Number);
}

/** kill -9 of everything in the namespace: keepalived's parent and its VRRP child die together. */
async function killNs(ns: string): Promise<void> {
  for (const pid of await nsPids(ns)) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* already gone */ }
  }
}

async function removeNetns(): Promise<void> {
  for (const ns of KA.ns) {
    await killNs(ns).catch(() => {});
    await run("ip", "netns", "del", ns).catch(() => {});
  }
}

/** Two namespaces joined by a veth pair. 127.0.0.x outside `lo` needs route_localnet, and `lo` stays down. */
async function createNetns(): Promise<void> {
  await removeNetns();
  for (const ns of KA.ns) await run("ip", "netns", "add", ns);
  await run("ip", "link", "add", KA.dev[0], "type", "veth", "peer", "name", KA.dev[1]);
  for (const i of [0, 1]) {
    await run("ip", "link", "set", KA.dev[i], "netns", KA.ns[i]);
    await run(
      "ip",
      ...["netns", "exec", KA.ns[i], "sysctl", "-q", "-w", "net.ipv4.conf.all.route_localnet=1"],
      `net.ipv4.conf.${KA.dev[i]}.route_localnet=1`,
    );
    await run("ip", "-n", KA.ns[i], "addr", "add", `${KA.addr[i]}/24`, "dev", KA.dev[i]);
    await run("ip", "-n", KA.ns[i], "link", "set", KA.dev[i], "up");
  }
}

function keepalivedConf(i: number, notify: string): string {
  return `global_defs {
  router_id ${KA.ns[i]}
  script_user root
}
vrrp_instance VI_1 {
  state ${i === 0 ? "MASTER" : "BACKUP"}
  interface ${KA.dev[i]}
  virtual_router_id 51
  priority ${KA.priority[i]}
  advert_int 1
  unicast_src_ip ${KA.addr[i]}
  unicast_peer {
    ${KA.addr[1 - i]}
  }
  virtual_ipaddress {
    ${KA.vip}/32 dev ${KA.dev[i]}
  }
  notify_master "${notify} MASTER"
  notify_backup "${notify} BACKUP"
}
`;
}

async function events(file: string): Promise<{ at: number; state: string }[]> {
  const text = await Deno.readTextFile(file).catch(() => "");
  return text.trim().split("\n").filter(Boolean).map((l) => {
    const [at, state] = l.split(" ");
    return { at: Number(at), state };
  });
}

async function waitEvent(
  file: string,
  state: string,
  since: number,
  limitMs: number,
): Promise<number | null> {
  const deadline = Date.now() + limitMs;
  while (Date.now() <= deadline) {
    const hit = (await events(file)).find((e) => e.state === state && e.at >= since);
    if (hit) return hit.at;
    await sleep(50);
  }
  return null;
}

async function keepalivedAvailable(): Promise<string | null> {
  if (Deno.uid() !== 0) return "not running as root (network namespaces need root)";
  try {
    const out = await new Deno.Command("keepalived", { args: ["--version"], stdout: "null", stderr: "null" })
      .output();
    if (out.code !== 0) return "keepalived --version failed";
  } catch {
    return "keepalived is not installed (apt-get install keepalived)";
  }
  return null;
}

async function measureKeepalived(runs: number): Promise<KeepalivedResult> {
  const why = await keepalivedAvailable();
  if (why) return { skipped: why };
  const dir = await Deno.makeTempDir({ prefix: "safekit-bench-ka-" });
  const delays: (number | null)[] = [];
  const children: Deno.ChildProcess[] = [];
  const start = async (i: number, r: number) => {
    const notify = join(dir, `notify-${i}.sh`);
    await Deno.writeTextFile(
      notify,
      `#!/bin/sh\necho "$(date +%s%3N) $1" >> "${join(dir, `events-${i}`)}"\n`,
    );
    await Deno.chmod(notify, 0o755);
    const conf = join(dir, `ka${i}.conf`);
    await Deno.writeTextFile(conf, keepalivedConf(i, notify));
    const log = await Deno.open(join(dir, `ka${i}.run${r}.log`), { create: true, write: true });
    const child = new Deno.Command("ip", {
      args: [
        "netns",
        "exec",
        KA.ns[i],
        "keepalived",
        "--dont-fork",
        "--log-console",
        "--log-detail",
        "--vrrp",
      ]
        .concat(["-f", conf, "-p", join(dir, `ka${i}.pid`), "-r", join(dir, `ka${i}.vrrp.pid`)])
        .concat(["-c", join(dir, `ka${i}.chk.pid`)]),
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    child.stderr.pipeTo(log.writable).catch(() => {});
    children.push(child);
  };
  try {
    await createNetns();
    for (let r = 0; r < runs; r++) {
      const t0 = Date.now();
      await start(0, r);
      if (await waitEvent(join(dir, "events-0"), "MASTER", t0, 10_000) === null) {
        throw new Error(`keepalived in ${KA.ns[0]} did not become MASTER (logs in ${dir})`);
      }
      await start(1, r);
      await waitEvent(join(dir, "events-1"), "BACKUP", t0, 10_000);
      // Let the backup receive a few adverts, with a random offset against the 1 s advert phase.
      await sleep(2000 + Math.random() * 1000);
      const killedAt = Date.now();
      await killNs(KA.ns[0]);
      const at = await waitEvent(join(dir, "events-1"), "MASTER", killedAt, FAILOVER_LIMIT_MS);
      delays.push(at === null ? null : at - killedAt);
      console.log(
        `keepalived run ${r + 1}/${runs}: ${
          at === null ? "no takeover" : `MASTER after ${at - killedAt} ms`
        }`,
      );
      await killNs(KA.ns[1]);
      for (const c of children.splice(0)) await c.status;
    }
    return { delaysMs: delays };
  } catch (e) {
    return { skipped: `keepalived measurement failed: ${e instanceof Error ? e.message : e}` };
  } finally {
    await removeNetns();
    for (const c of children) {
      try {
        c.kill("SIGKILL");
      } catch { /* already gone */ }
      await c.status;
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

// ---------------------------------------------------------------- report

function report(
  takeovers: TakeoverRun[],
  load: LoadResult,
  ka: KeepalivedResult,
  opts: { runs: number; loadSeconds: number },
): boolean {
  const ok = takeovers.flatMap((r) => r.delayMs === null ? [] : [r.delayMs]);
  const missed = takeovers.length - ok.length;
  const med = median(ok), p90 = percentile(ok, 90), max = ok.length ? Math.max(...ok) : NaN;
  const falseFailovers = load.stateChanges.length + load.roleScripts.length;

  console.log(
    "\n=== 1. detection and takeover (kill -9 of the primary's node service -> start_prim on survivor)",
  );
  console.log(
    `runs: ${takeovers.length}/${opts.runs}, failed over within ${FAILOVER_LIMIT_MS} ms: ${ok.length}`,
  );
  console.log(
    `median ${fmt(med)}, p90 ${fmt(p90)}, max ${fmt(max)}, min ${fmt(ok.length ? Math.min(...ok) : NaN)}`,
  );
  console.log(`not failed over within ${FAILOVER_LIMIT_MS / 1000} s: ${missed}`);

  console.log(`\n=== 2. false failovers under load (${load.spinners} busy loops, ${load.seconds} s)`);
  console.log(`CPU busy during the window (all CPUs, /proc/stat): ${load.cpuBusyPct.toFixed(1)} %`);
  console.log(`polls: ${load.polls} (each both nodes), unanswered within 1 s: ${load.unanswered}`);
  console.log(`state changes away from PRIM/SECOND Ready: ${load.stateChanges.length}`);
  for (const s of load.stateChanges) console.log(`  ${s}`);
  console.log(`new start_prim/stop_prim runs: ${load.roleScripts.length}`);
  for (const s of load.roleScripts) console.log(`  ${s}`);
  console.log(`false failovers (state changes + role script runs): ${falseFailovers}`);

  console.log("\n=== 3. baselines");
  console.log(`floor: heartbeat timeout of this configuration = ${HEARTBEAT_TIMEOUT_MS} ms`);
  console.log(
    `  (counted from the last heartbeat received, 0-${PULSE_MS} ms before the kill: ` +
      `${HEARTBEAT_TIMEOUT_MS - PULSE_MS}-${HEARTBEAT_TIMEOUT_MS} ms after it)`,
  );
  console.log(
    `  ratio median/timeout: ${ratio(med, HEARTBEAT_TIMEOUT_MS)}, max/timeout: ${
      ratio(max, HEARTBEAT_TIMEOUT_MS)
    }`,
  );
  if ("skipped" in ka) {
    console.log(`keepalived (advert_int 1) measured here: SKIPPED: ${ka.skipped}`);
  } else {
    const kok = ka.delaysMs.flatMap((d) => d === null ? [] : [d]);
    const kmed = median(kok), kmax = kok.length ? Math.max(...kok) : NaN;
    console.log(
      `keepalived 2.2 (advert_int 1, backup priority 100, unicast, 2 netns) measured here, ${ka.delaysMs.length} runs:`,
    );
    console.log(`  median ${fmt(kmed)}, max ${fmt(kmax)}, no takeover: ${ka.delaysMs.length - kok.length}`);
    console.log(`  ratio safekit/keepalived median: ${ratio(med, kmed)}, max: ${ratio(max, kmax)}`);
  }
  console.log("published reference figures (NOT measured here):");
  console.log(`  keepalived worst case, advert_int 1 s: ${KEEPALIVED_PUBLISHED_MS} ms (3 x advert + skew)`);
  console.log(`    ratio safekit median/that: ${ratio(med, KEEPALIVED_PUBLISHED_MS)}`);
  console.log(`  SafeKit 8.2 default detection: ${SAFEKIT_DEFAULT_DETECTION_MS} ms`);
  console.log(`    ratio safekit median/that: ${ratio(med, SAFEKIT_DEFAULT_DETECTION_MS)}`);

  const goals = [
    [`median <= ${GOAL.medianMs} ms`, med <= GOAL.medianMs, fmt(med)],
    [`max <= ${GOAL.maxMs} ms (and no missed takeover)`, max <= GOAL.maxMs && missed === 0, fmt(max)],
    [
      `${GOAL.falseFailovers} false failovers`,
      falseFailovers === GOAL.falseFailovers,
      String(falseFailovers),
    ],
  ] as const;
  console.log("\n=== summary");
  for (const [goal, met, got] of goals) console.log(`${met ? "MET   " : "MISSED"} ${goal}: ${got}`);
  return goals.every(([, met]) => met);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "20" },
      "load-seconds": { type: "string", default: "60" },
      "keepalived-runs": { type: "string", default: "5" },
    },
  });
  const runs = Number(values.runs), loadSeconds = Number(values["load-seconds"]);
  const kaRuns = Number(values["keepalived-runs"]);
  for (
    const [k, v] of [["runs", runs], ["load-seconds", loadSeconds], ["keepalived-runs", kaRuns]] as const
  ) {
    if (!Number.isInteger(v) || v < 0 || v > 1000) throw new Error(`--${k} must be an integer 0..1000`);
  }
  await waitPortsFree(NODES.map(([, a]) => a), WEB_PORT);
  let takeovers: TakeoverRun[] = [];
  let load: LoadResult | null = null;
  await withNodes(NODES, async ([n1, n2], root) => {
    await setupMirror(n1, n2, root, { pulse: "200ms", timeout: "1s" });
    await n1.ok("prim", "-m", MODULE);
    await waitState(n1, "ALONE Ready");
    await n2.ok("second", "-m", MODULE);
    await waitState(n2, "SECOND Ready");
    await waitState(n1, "PRIM Ready");
    console.log(`cluster up: node1 127.0.0.2 PRIM, node2 127.0.0.3 SECOND (pulse 200 ms, timeout 1 s)`);
    takeovers = await measureTakeovers(n1, n2, runs);
    await sleep(1000);
    console.log(`loading the CPUs for ${loadSeconds} s...`);
    load = await measureUnderLoad([n1, n2], loadSeconds);
  });
  const ka = await measureKeepalived(kaRuns);
  const met = report(takeovers, load!, ka, { runs, loadSeconds });
  if (!met) Deno.exitCode = 1;
}

if (import.meta.main) await main();
