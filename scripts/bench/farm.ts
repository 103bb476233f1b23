// Farm benchmark: TCP connections per second from a client through a farm VIP shared by 3 node services
// (the nftables bucket filter on every node, each node's application accepting its share) versus straight to
// one node's own address, served by the same server program. One lab per run (as tests/net/daemon_vip_netns_test.ts
// builds it): a bridge namespace, 3 node namespaces each running a real node service, a client namespace.
// Rounds alternate VIP and direct so both see the same machine load; medians and their ratio are printed.
// Needs root, ip, nft, ss. Everything it creates (processes, namespaces, temp dir) is removed in `finally`.
//
//   deno run -A scripts/bench/farm.ts [--rounds 5] [--connections 2000] [--concurrency 16]
//   deno run -A scripts/bench/farm.ts --buckets      (no root: bucket assignment figures, see below)
//
// Internal: `farm.ts --client HOST PORT N CONCURRENCY` is the client this script runs inside the client
// namespace; it prints one JSON line {elapsedMs, counts} (its own start-up is not timed).
import { parseArgs } from "node:util";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createLab, type NetnsProcess, spawnInNetns } from "../../tests/net/support/netns_lab.ts";
import { killNamespace, NetnsNodeService } from "../../tests/net/support/netns_node_service.ts";
import { farmVipSafe } from "../../tests/net/support/vip_module_safe.ts";
import { median } from "./bench_cluster.ts";
import { assignBuckets, type FarmGroup, idealShares, preferenceLists } from "../../src/core/farm_buckets.ts";

const SELF = fileURLToPath(import.meta.url);
const SUBNET = "10.99.9";
const VIP = `${SUBNET}.50`;
const VIP_PORT = 8080;
const DIRECT_PORT = 8081;
const MODULE = "farm";
/** Per connection: connect + read the node's name; beyond this it counts as TIMEOUT. */
const CONNECT_TIMEOUT_MS = 2000;
/** A client round that does not finish within this is abandoned (bounded run). */
const ROUND_LIMIT_MS = 120_000;

type ClientResult = { elapsedMs: number; counts: Record<string, number> };

// ---------------------------------------------------------------- the client (inside the client namespace)

async function askOnce(host: string, port: number): Promise<string> {
  let conn: Deno.TcpConn | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((
    _,
    rej,
  ) => (timer = setTimeout(() => rej(new Error("TIMEOUT")), CONNECT_TIMEOUT_MS)));
  try {
    conn = await Promise.race([Deno.connect({ hostname: host, port }), timeout]);
    const buf = new Uint8Array(64);
    const n = await Promise.race([conn.read(buf), timeout]);
    return n ? new TextDecoder().decode(buf.subarray(0, n)) : "EMPTY";
  } catch (e) {
    return (e as Error).message === "TIMEOUT" ? "TIMEOUT" : `ERR:${(e as Error).name}`;
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch { /* closed */ }
  }
}

async function runClient(host: string, port: number, total: number, concurrency: number): Promise<void> {
  const counts: Record<string, number> = {};
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      const who = await askOnce(host, port);
      counts[who] = (counts[who] ?? 0) + 1;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const result: ClientResult = { elapsedMs: performance.now() - t0, counts };
  console.log(JSON.stringify(result));
}

// ---------------------------------------------------------------- the lab

function clusterXml(nodes: readonly NetnsNodeService[]): string {
  return `<cluster>\n  <lans>\n    <lan name="default">\n${
    nodes.map((n) => `      <node name="${n.name}" addr="${n.host.ip}"/>`).join("\n")
  }\n    </lan>\n  </lans>\n</cluster>\n`;
}

function spawnClient(ns: string, args: string[]): Deno.ChildProcess {
  return new Deno.Command("ip", {
    args: ["netns", "exec", ns, Deno.execPath(), "run", "-A", SELF, "--client", ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

/** One client run, killed if it outlives ROUND_LIMIT_MS. */
async function measure(ns: string, host: string, port: number, n: number, c: number): Promise<ClientResult> {
  const child = spawnClient(ns, [host, `${port}`, `${n}`, `${c}`]);
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, ROUND_LIMIT_MS);
  try {
    const out = await child.output();
    const text = new TextDecoder().decode(out.stdout).trim();
    if (!out.success || !text) throw new Error(`client to ${host}:${port} failed (${out.code})`);
    return JSON.parse(text.split("\n").at(-1)!) as ClientResult;
  } finally {
    clearTimeout(timer);
  }
}

const perSecond = (r: ClientResult, n: number) => (1000 * n) / r.elapsedMs;
const failures = (r: ClientResult, names: readonly string[]) =>
  Object.entries(r.counts).filter(([k]) => !names.includes(k)).reduce((s, [, v]) => s + v, 0);

async function bench(rounds: number, connections: number, concurrency: number): Promise<void> {
  const lab = await createLab({ node1: 2, node2: 3, node3: 4, client: 100 }, { subnet: SUBNET });
  const root = await Deno.makeTempDir({ prefix: "safekit-farm-bench-" });
  const nodes = ["node1", "node2", "node3"].map((n) => new NetnsNodeService(n, lab.hosts[n], root));
  const procs: NetnsProcess[] = [];
  try {
    await Promise.all(nodes.map((n) => n.start()));
    await Deno.writeTextFile(join(root, "cluster.xml"), clusterXml(nodes));
    await nodes[0].ok("cluster", "config", "cluster.xml");
    await nodes[0].ok("cluster", "export", "bundle.zip");
    for (const n of nodes.slice(1)) await n.ok("cluster", "config", "bundle.zip");
    await nodes[0].ok("module", "install", "-m", MODULE, await farmVipSafe(root, VIP, VIP_PORT));
    await nodes[0].ok("config", "-m", MODULE);
    await nodes[0].ok("-H", "*", "-E", MODULE);
    await nodes[0].ok("-H", "*", "start", "-m", MODULE);
    for (const n of nodes) await n.waitState(MODULE, "UP Ready", 30_000);

    // Every node owns its buckets before measuring.
    const settle = spawnInNetns(lab.hosts.client.ns, "farm_share_probe.ts", [
      VIP,
      `${VIP_PORT}`,
      "node1,node2,node3",
      "30000",
    ]);
    procs.push(settle);
    if (await settle.next(20_000) !== "ready") throw new Error("share probe did not start");
    const settled = JSON.parse(await settle.next(40_000));
    if (settled.at === null) throw new Error(`the 3 nodes never shared the VIP: ${JSON.stringify(settled)}`);

    // The direct baseline: the same server program on node1's own address (outside the VIP filter).
    const direct = spawnInNetns(lab.hosts.node1.ns, "vip_app_server.ts", [
      lab.hosts.node1.ip,
      `${DIRECT_PORT}`,
      "node1",
      join(root, "direct.accepted"),
    ]);
    procs.push(direct);
    const deadline = Date.now() + 20_000;
    while ((await measure(lab.hosts.client.ns, lab.hosts.node1.ip, DIRECT_PORT, 1, 1)).counts.node1 !== 1) {
      if (Date.now() > deadline) throw new Error("the direct server never answered");
      await new Promise((r) => setTimeout(r, 200));
    }

    console.log(
      `farm bench: ${rounds} rounds × ${connections} connections, ${concurrency} in flight, VIP ${VIP}:${VIP_PORT} ` +
        `(3 nodes) vs ${lab.hosts.node1.ip}:${DIRECT_PORT} (node1 alone)`,
    );
    const vipRates: number[] = [];
    const directRates: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const v = await measure(lab.hosts.client.ns, VIP, VIP_PORT, connections, concurrency);
      const d = await measure(lab.hosts.client.ns, lab.hosts.node1.ip, DIRECT_PORT, connections, concurrency);
      vipRates.push(perSecond(v, connections));
      directRates.push(perSecond(d, connections));
      console.log(
        `round ${i + 1}: VIP ${Math.round(perSecond(v, connections))}/s ${JSON.stringify(v.counts)} ` +
          `(${failures(v, ["node1", "node2", "node3"])} failed); direct ${
            Math.round(perSecond(d, connections))
          }/s (${failures(d, ["node1"])} failed)`,
      );
    }
    const mv = median(vipRates);
    const md = median(directRates);
    console.log(`median VIP (3 nodes): ${Math.round(mv)} connections/s`);
    console.log(`median direct (node1): ${Math.round(md)} connections/s`);
    console.log(`ratio VIP/direct: ${(mv / md).toFixed(2)}`);
  } catch (e) {
    for (const n of nodes) {
      console.error(`--- ${n.name} daemon log ---\n${(await n.daemonLog()).slice(-2000)}`);
    }
    throw e;
  } finally {
    for (const p of procs) await p.kill();
    for (const h of Object.values(lab.hosts)) await killNamespace(h.ns).catch((e) => console.error(e));
    await lab.close();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

// ---------------------------------------------------------------- bucket assignment figures (pure)

/**
 * For each power vector: time to build the group's preference lists (once per configuration), the worst
 * |buckets − weighted share| over every membership, and over every join and leave the buckets moved versus
 * the minimum (the buckets some node must gain). docs/farm.md quotes the output.
 */
function bucketFigures(): void {
  const vectors = [
    [1, 1],
    [1, 1, 1],
    [1, 1, 1, 1],
    [1, 1, 1, 1, 1, 1, 1, 1],
    [3, 1, 1],
    [1, 2, 3, 4, 5, 6, 7, 8],
    [5, 3, 2, 7, 1, 1, 9, 4],
    [2, 1, 1, 1, 1, 1, 1, 1],
    [3, 3, 2, 2, 1, 1, 1, 1],
    [0, 1, 1, 2, 0, 1, 1, 1],
    [1, 40, 1600, 2, 3, 5, 8, 13],
    [1, 64, 4096, 1, 1, 64, 1, 4096],
    [100, 1, 1, 1, 1, 1, 1, 1],
  ];
  for (const powers of vectors) {
    const nodes = powers.map((_, i) => `node${i + 1}`);
    const group: FarmGroup = {
      name: "FarmProto",
      powers: Object.fromEntries(nodes.map((n, i) => [n, powers[i]])),
    };
    const t0 = performance.now();
    preferenceLists(group);
    const ms = performance.now() - t0;
    const owners = new Map<number, readonly (string | null)[]>();
    let worst = 0, worstPair = 0, over1 = 0;
    for (let mask = 1; mask < 1 << nodes.length; mask++) {
      const members = nodes.filter((_, i) => (mask >> i) & 1);
      const a = assignBuckets(group, members);
      owners.set(mask, a.owners);
      const shares = idealShares(group, members);
      for (const m of members) {
        const d = Math.abs(a.owners.filter((o) => o === m).length - shares.get(m)!);
        worst = Math.max(worst, d);
        if (members.length === 2) worstPair = Math.max(worstPair, d);
        if (d > 1 + 1e-9) over1++;
      }
    }
    let transitions = 0, moved = 0, minimum = 0;
    const tally = (o: readonly (string | null)[]) => {
      const m = new Map<string | null, number>();
      for (const x of o) m.set(x, (m.get(x) ?? 0) + 1);
      return m;
    };
    for (let mask = 1; mask < 1 << nodes.length; mask++) {
      for (let x = 0; x < nodes.length; x++) {
        const without = mask & ~(1 << x);
        if (without === mask || without === 0) continue;
        const a = owners.get(mask)!, z = owners.get(without)!;
        transitions++;
        moved += a.filter((o, b) => o !== z[b]).length;
        const ca = tally(a);
        for (const [k, v] of tally(z)) minimum += Math.max(0, v - (ca.get(k) ?? 0));
      }
    }
    console.log(
      `${JSON.stringify(powers).padEnd(30)} lists ${ms.toFixed(0).padStart(4)} ms  worst |dev| ${
        worst.toFixed(2)
      }` +
        ` (pairs ${
          worstPair.toFixed(2)
        }, ${over1} over 1)  ${transitions} joins/leaves: moved ${moved}, minimum ${minimum}`,
    );
  }
}

if (import.meta.main) {
  if (Deno.args[0] === "--buckets") {
    bucketFigures();
  } else if (Deno.args[0] === "--client") {
    const [host, port, n, c] = Deno.args.slice(1);
    await runClient(host, Number(port), Number(n), Number(c));
  } else {
    const { values } = parseArgs({
      args: Deno.args,
      options: {
        rounds: { type: "string", default: "5" },
        connections: { type: "string", default: "2000" },
        concurrency: { type: "string", default: "16" },
      },
    });
    const rounds = Math.min(20, Math.max(1, Number(values.rounds)));
    const connections = Math.min(20_000, Math.max(1, Number(values.connections)));
    const concurrency = Math.min(64, Math.max(1, Number(values.concurrency)));
    if (Deno.uid?.() !== 0) {
      console.error("farm bench: needs root (network namespaces, nftables)");
      Deno.exit(2);
    }
    await bench(rounds, connections, concurrency);
  }
}
