// Shared setup for the benchmarks: real node services in a temp dir (through the integration-test harness),
// mirror modules installed and configured through the CLI, and helper child processes.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { packageModuleDir } from "../../src/module_package/mod.ts";
import { clusterXml, TestNode } from "../../tests/integration/node_harness.ts";

export const WEB_PORT = 9010;
export const BASELINE_SERVER = fileURLToPath(new URL("./baseline_server.ts", import.meta.url));
export const LOAD_CLIENT = fileURLToPath(new URL("./load_client.ts", import.meta.url));

const MIRROR_XML = `<safe><service mode="mirror"><heart><heartbeat name="default"/></heart>
<user><var name="X" value="1"/></user></service></safe>`;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

import { accepts, waitPortsFree } from "../../tests/support/ports.ts";
export { accepts, waitPortsFree };

async function makeMirrorSafe(root: string): Promise<string> {
  const tree = join(root, `tree-${crypto.randomUUID()}`);
  await Deno.mkdir(join(tree, "conf"), { recursive: true });
  await Deno.mkdir(join(tree, "bin"), { recursive: true });
  await Deno.writeTextFile(join(tree, "conf", "userconfig.xml"), MIRROR_XML);
  await Deno.writeTextFile(join(tree, "bin", "start_prim"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  const file = join(root, `m-${crypto.randomUUID()}.safe`);
  await Deno.writeFile(file, await packageModuleDir(tree));
  return file;
}

export type BenchCluster = {
  readonly root: string;
  /** The node services that were started (the cluster.xml may name more). */
  readonly running: TestNode[];
  close(): Promise<void>;
};

/**
 * Starts the first `startCount` of `nodes` with a cluster.xml naming all of them, then installs and
 * configures each module on the first node (exporting it with -E when more than one node runs).
 */
export async function startBenchCluster(
  nodes: readonly [string, string][],
  modules: readonly string[],
  startCount = nodes.length,
): Promise<BenchCluster> {
  await waitPortsFree(nodes.slice(0, startCount).map(([, a]) => a), WEB_PORT);
  const root = await Deno.makeTempDir({ prefix: "safekit-bench-" });
  const all = nodes.map(([n, a]) => new TestNode(n, a, root));
  const running = all.slice(0, startCount);
  const close = async () => {
    await Promise.all(running.map((n) => n.stop()));
    await Deno.remove(root, { recursive: true }).catch(() => {});
  };
  try {
    await Promise.all(running.map((n) => n.start()));
    const [first, ...others] = running;
    await Deno.writeTextFile(join(root, "cluster.xml"), clusterXml(all));
    await first.ok("cluster", "config", "cluster.xml");
    if (others.length) {
      await first.ok("cluster", "export", "bundle.zip");
      for (const n of others) await n.ok("cluster", "config", "bundle.zip");
    }
    for (const [i, m] of modules.entries()) {
      await first.ok("module", "install", "-m", m, "-M", String(i + 1), await makeMirrorSafe(root));
      await first.ok("config", "-m", m);
      if (others.length) await first.ok("-H", "*", "-E", m);
    }
    return { root, running, close };
  } catch (e) {
    for (const n of running) {
      const log = await Deno.readTextFile(join(root, `${n.name}.daemon.log`)).catch(() => "");
      if (log) console.error(`--- ${n.name} daemon log ---\n${log.slice(-3000)}`);
    }
    await close();
    throw e;
  }
}

export type Baseline = { readonly child: Deno.ChildProcess; close(): Promise<void> };

/** Starts baseline_server.ts as a separate process on hostname:port and waits until it accepts. */
export async function startBaseline(hostname: string, port = WEB_PORT): Promise<Baseline> {
  await waitPortsFree([hostname], port);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-prompt", BASELINE_SERVER, hostname, String(port)],
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const close = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
  };
  const deadline = Date.now() + 30_000;
  while (!(await accepts(hostname, port))) {
    if (Date.now() > deadline) {
      await close();
      throw new Error(`baseline server on ${hostname}:${port} did not start`);
    }
    await sleep(100);
  }
  return { child, close };
}

export type ProcMemory = { readonly rssKb: number; readonly hwmKb: number };

/** VmRSS and VmHWM from the text of /proc/<pid>/status. */
export function parseProcStatus(text: string): ProcMemory {
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, "m").exec(text);
    if (!m) throw new Error(`${key} missing from /proc status`);
    return Number(m[1]);
  };
  return { rssKb: kb("VmRSS"), hwmKb: kb("VmHWM") };
}

export async function procMemory(pid: number): Promise<ProcMemory> {
  return parseProcStatus(await Deno.readTextFile(`/proc/${pid}/status`));
}

/** The command line of a process, to check the pid measured is the one meant. */
export async function procCmdline(pid: number): Promise<string[]> {
  return (await Deno.readTextFile(`/proc/${pid}/cmdline`)).split("\0").filter(Boolean);
}
