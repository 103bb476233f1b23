// Benchmarks the health probe GET /var/modules/<AM>/ready.txt of a real node service against a bare
// Deno.serve answering a constant 404, with 64 keep-alive HTTP/1.1 clients: closed-loop max throughput, and
// latency under an open-loop fixed rate. Server, baseline and load generator are separate processes.
// Usage: deno run -A scripts/bench/probe.ts [--seconds 5] [--rounds 3] [--rate 1000] [--open-seconds 5]
import { parseArgs } from "node:util";
import { LOAD_CLIENT, median, startBaseline, startBenchCluster, WEB_PORT } from "./bench_cluster.ts";
import type { LoadResult, LoadSpec } from "./load_client.ts";

const MODULE = "mirror";
const PROBE_PATH = `/var/modules/${MODULE}/ready.txt`;
const BASELINE_ADDR = "127.0.0.4";
const GOAL_RATIO = 0.5;
const GOAL_P99_MS = 5;

async function load(spec: LoadSpec): Promise<LoadResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-prompt", LOAD_CLIENT, JSON.stringify(spec)],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // The client bounds itself; this bounds the client.
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, spec.seconds * 1000 + 20_000);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  if (out.code !== 0) throw new Error(`load client exited ${out.code}: ${dec.decode(out.stderr)}`);
  return JSON.parse(dec.decode(out.stdout)) as LoadResult;
}

type Target = { readonly name: string; readonly host: string };
type Figures = {
  rps: number[];
  p50: number[];
  p99: number[];
  max: number[];
  statuses: Set<string>;
  errors: number;
};

const fmt = (x: number, digits = 2) => x.toFixed(digits);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string", default: "5" },
      rounds: { type: "string", default: "3" },
      rate: { type: "string", default: "1000" },
      "open-seconds": { type: "string", default: "5" },
      connections: { type: "string", default: "64" },
    },
  });
  const seconds = Math.min(60, Math.max(1, Number(values.seconds)));
  const rounds = Math.min(10, Math.max(1, Number(values.rounds)));
  const rate = Math.min(100_000, Math.max(1, Number(values.rate)));
  const openSeconds = Math.min(60, Math.max(1, Number(values["open-seconds"])));
  const connections = Math.min(1024, Math.max(1, Number(values.connections)));

  console.log("starting a 2-node cluster (127.0.0.2, 127.0.0.3) and the baseline (127.0.0.4)...");
  const cluster = await startBenchCluster([["node1", "127.0.0.2"], ["node2", "127.0.0.3"]], [MODULE]);
  let baseline: Awaited<ReturnType<typeof startBaseline>> | null = null;
  try {
    baseline = await startBaseline(BASELINE_ADDR);
    const targets: Target[] = [{ name: "safekit", host: "127.0.0.2" }, {
      name: "baseline",
      host: BASELINE_ADDR,
    }];
    const spec = (t: Target, mode: "closed" | "open", secs: number): LoadSpec => ({
      host: t.host,
      port: WEB_PORT,
      path: PROBE_PATH,
      connections,
      seconds: secs,
      mode,
      rate,
    });
    const figures = new Map<string, Figures>(
      targets.map((t) => [t.name, { rps: [], p50: [], p99: [], max: [], statuses: new Set(), errors: 0 }]),
    );
    // One short unreported pass per target so both are measured warm (JIT, connection setup).
    for (const t of targets) await load(spec(t, "closed", 1));

    for (let r = 0; r < rounds; r++) {
      // Alternate the order between rounds so neither side always runs first.
      const order = r % 2 ? [...targets].reverse() : targets;
      for (const t of order) {
        const f = figures.get(t.name)!;
        const closed = await load(spec(t, "closed", seconds));
        const open = await load(spec(t, "open", openSeconds));
        f.rps.push(closed.requests / closed.seconds);
        f.p50.push(open.latencyMs.p50);
        f.p99.push(open.latencyMs.p99);
        f.max.push(open.latencyMs.max);
        for (const s of [...Object.keys(closed.statuses), ...Object.keys(open.statuses)]) f.statuses.add(s);
        f.errors += closed.errors + open.errors;
        console.log(
          `round ${r + 1} ${t.name.padEnd(8)} closed ${fmt(closed.requests / closed.seconds, 0)} req/s` +
            ` | open ${open.requests} req @${rate}/s p50 ${fmt(open.latencyMs.p50)} p99 ${
              fmt(open.latencyMs.p99)
            } max ${fmt(open.latencyMs.max)} ms | status ${JSON.stringify({ ...closed.statuses })}` +
            (closed.errors + open.errors ? ` | ${closed.errors + open.errors} connection errors` : ""),
        );
      }
    }

    const med = (name: string) => {
      const f = figures.get(name)!;
      return { rps: median(f.rps), p50: median(f.p50), p99: median(f.p99), max: median(f.max), f };
    };
    const sk = med("safekit");
    const base = med("baseline");
    console.log(
      `\nmedians of ${rounds} round(s); ${connections} keep-alive connections; closed loop ${seconds} s; ` +
        `open loop ${rate} req/s for ${openSeconds} s; GET ${PROBE_PATH} (module configured, STOP: 404 path)\n`,
    );
    console.log("| target | req/s (closed loop) | p50 ms | p99 ms | max ms | statuses | errors |");
    console.log("|---|---:|---:|---:|---:|---|---:|");
    for (const [name, m] of [["safekit", sk], ["baseline", base]] as const) {
      console.log(
        `| ${name} | ${fmt(m.rps, 0)} | ${fmt(m.p50)} | ${fmt(m.p99)} | ${fmt(m.max)} | ${
          [...m.f.statuses].join(",")
        } | ${m.f.errors} |`,
      );
    }
    const ratio = sk.rps / base.rps;
    console.log(
      `\nratio safekit/baseline req/s: ${fmt(ratio)}  (goal >= ${GOAL_RATIO}: ${
        ratio >= GOAL_RATIO ? "MET" : "NOT MET"
      })`,
    );
    console.log(`ratio safekit/baseline p99 at ${rate} req/s: ${fmt(sk.p99 / base.p99)}`);
    console.log(
      `safekit p99 at ${rate} req/s: ${fmt(sk.p99)} ms  (goal < ${GOAL_P99_MS} ms: ${
        sk.p99 < GOAL_P99_MS ? "MET" : "NOT MET"
      })`,
    );
  } finally {
    await baseline?.close();
    await cluster.close();
  }
}

if (import.meta.main) await main();
