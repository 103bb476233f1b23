// Cost of the checkers: two node services of one cluster, measured over the same window. node1 runs a mirror
// module with N tcp checkers (interval 1 s) on a local listener the bench starts; node2 runs the same module
// without any checker. CPU from /proc/<pid>/stat (utime + stime), resident memory from /proc/<pid>/status.
// The windows are repeated (--rounds) and the median of the added CPU is the figure: one window on a shared
// machine can be off by a neighbour's burst.
// Usage: deno run -A scripts/bench/checkers.ts [--checkers 50] [--window 15] [--rounds 5]
import { join } from "node:path";
import { parseArgs } from "node:util";
import { packageModuleDir } from "../../src/module_package/mod.ts";
import { clusterXml, TestNode } from "../../tests/integration/node_harness.ts";
import { procCmdline, procMemory, sleep, waitPortsFree, WEB_PORT } from "./bench_cluster.ts";

const GOAL_CPU_PCT = 2;
const TARGET_ADDR = "127.0.0.63";
const NODE_ADDRS: [string, string][] = [["node1", "127.0.0.61"], ["node2", "127.0.0.62"]];
/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** utime + stime, in clock ticks, from the text of /proc/<pid>/stat (the name may hold spaces and parens). */
export function cpuTicks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is the state (field 3), so utime (field 14) and stime (field 15) are at 11 and 12.
  return Number(fields[11]) + Number(fields[12]);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function ticksOf(pid: number): Promise<number> {
  return cpuTicks(await Deno.readTextFile(`/proc/${pid}/stat`));
}

function moduleXml(checkers: number, port: number): string {
  const check = checkers === 0
    ? ""
    : `<check>${
      Array.from({ length: checkers }, (_, i) =>
        `<tcp ident="t${
          i + 1
        }" when="prim"><to addr="${TARGET_ADDR}" port="${port}" interval="1s" timeout="1s"/></tcp>`)
        .join("\n")
    }</check>`;
  return `<safe><service mode="mirror"><heart><heartbeat name="default"/></heart>
${check}
<user/></service></safe>`;
}

async function moduleSafe(root: string, xml: string): Promise<string> {
  const tree = join(root, `tree-${crypto.randomUUID()}`);
  await Deno.mkdir(join(tree, "conf"), { recursive: true });
  await Deno.mkdir(join(tree, "bin"), { recursive: true });
  await Deno.writeTextFile(join(tree, "conf", "userconfig.xml"), xml);
  await Deno.writeTextFile(join(tree, "bin", "start_prim"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  const file = join(root, `m-${crypto.randomUUID()}.safe`);
  await Deno.writeFile(file, await packageModuleDir(tree));
  return file;
}

async function waitFor(what: string, ok: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      checkers: { type: "string", default: "50" },
      window: { type: "string", default: "15" },
      rounds: { type: "string", default: "5" },
    },
  });
  const checkers = Math.max(1, Number(values.checkers));
  const windowS = Math.min(120, Math.max(5, Number(values.window)));
  const rounds = Math.min(20, Math.max(1, Number(values.rounds)));

  // The checkers' target: accepts and closes at once, as a live service would answer a connect.
  const listener = Deno.listen({ hostname: TARGET_ADDR, port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const accepting = (async () => {
    for await (const c of listener) c.close();
  })().catch(() => {});

  const addrs = NODE_ADDRS;
  await waitPortsFree(addrs.map(([, a]) => a), WEB_PORT);
  const root = await Deno.makeTempDir({ prefix: "safekit-bench-checkers-" });
  const [n1, n2] = addrs.map(([n, a]) => new TestNode(n, a, root));
  try {
    console.log(`starting node1 (module with ${checkers} tcp checkers) and node2 (module without)...`);
    await Promise.all([n1.start(), n2.start()]);
    await Deno.writeTextFile(join(root, "cluster.xml"), clusterXml([n1, n2]));
    await n1.ok("cluster", "config", "cluster.xml");
    await n1.ok("cluster", "export", "bundle.zip");
    await n2.ok("cluster", "config", "bundle.zip");
    // Two modules installed on both nodes; each node starts only one of them, so each daemon runs one.
    await n1.ok(
      "module",
      "install",
      "-m",
      "chk",
      "-M",
      "1",
      await moduleSafe(root, moduleXml(checkers, port)),
    );
    await n1.ok("module", "install", "-m", "bare", "-M", "2", await moduleSafe(root, moduleXml(0, port)));
    for (const m of ["chk", "bare"]) {
      await n1.ok("config", "-m", m);
      await n1.ok("-H", "*", "-E", m);
    }
    await n1.ok("prim", "-m", "chk");
    await n2.ok("prim", "-m", "bare");
    const last = `tcp.t${checkers}`;
    await waitFor(
      `${last} up on node1`,
      async () => (await n1.cli("get", "-m", "chk", "-r", last)).stdout.trim() === "up",
    );
    await waitFor(
      "bare ALONE on node2",
      async () => /ALONE/.test((await n2.cli("state", "-m", "bare")).stdout),
    );

    const pids = [n1.child!.pid, n2.child!.pid];
    for (const pid of pids) {
      const cmd = await procCmdline(pid);
      if (cmd.at(-1) !== "daemon") throw new Error(`pid ${pid} is not a daemon: ${cmd.join(" ")}`);
    }
    await sleep(3000); // past the start-up work (JIT, first connections)
    const mb = (kb: number) => (kb / 1024).toFixed(1);
    console.log(`\n${rounds} rounds of ${windowS} s:\n`);
    console.log("| round | node1 CPU % (50 checkers) | node2 CPU % (none) | added % |");
    console.log("|---:|---:|---:|---:|");
    const added: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const before = await Promise.all(pids.map(ticksOf));
      const t0 = performance.now();
      await sleep(windowS * 1000);
      const after = await Promise.all(pids.map(ticksOf));
      const elapsedS = (performance.now() - t0) / 1000;
      const cpuPct = pids.map((_, i) => ((after[i] - before[i]) / USER_HZ) / elapsedS * 100);
      added.push(cpuPct[0] - cpuPct[1]);
      console.log(
        `| ${round} | ${cpuPct[0].toFixed(2)} | ${cpuPct[1].toFixed(2)} | ${added.at(-1)!.toFixed(2)} |`,
      );
    }
    const [mem1, mem2] = await Promise.all(pids.map(procMemory));
    const med = median(added);
    console.log(`\nVmRSS: node1 ${mb(mem1.rssKb)} MB, node2 ${mb(mem2.rssKb)} MB`);
    console.log(
      `added by ${checkers} checkers (median of ${rounds}): CPU ${
        med.toFixed(2)
      } % of one core (goal < ${GOAL_CPU_PCT} %: ${med < GOAL_CPU_PCT ? "MET" : "NOT MET"}), VmRSS ${
        mb(mem1.rssKb - mem2.rssKb)
      } MB`,
    );
    console.log(`(CPU resolution: 1 tick = ${(100 / USER_HZ / windowS).toFixed(2)} % over one window)`);
  } finally {
    await Promise.all([n1.stop(), n2.stop()]);
    listener.close();
    await accepting;
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
