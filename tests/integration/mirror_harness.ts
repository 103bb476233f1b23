// Shared setup for mirror-module integration tests: two real node services, one mirror module with short
// heartbeats and scripts that record when they ran.
import { join } from "node:path";
import { packageModuleDir } from "../../src/module_package/mod.ts";
import { clusterXml, type TestNode } from "./node_harness.ts";

export const MODULE = "mirror";

/** Each script appends "<epoch ms> <script> <args>" to SAFEUSERVAR/scripts.log. */
const RECORD = `#!/bin/sh
echo "$(date +%s%3N) $(basename "$0") $*" >> "$SAFEUSERVAR/scripts.log"
`;

export type MirrorModuleOptions = {
  failover?: "on" | "off";
  pulse?: string;
  timeout?: string;
  niceStop?: string;
  forceStop?: string;
  boot?: "on" | "off" | "auto";
  /** Extra attributes of <service>, e.g. `maxloop="2"`. */
  serviceAttrs?: string;
  /** Extra elements inside <service> (e.g. an <rfs> block). */
  extra?: string;
  /** Script bodies to use instead of the recorder, by name. */
  scripts?: Record<string, string>;
};

export async function mirrorSafe(root: string, o: MirrorModuleOptions = {}): Promise<string> {
  const tree = join(root, `mirror-tree-${crypto.randomUUID()}`);
  await Deno.mkdir(join(tree, "conf"), { recursive: true });
  await Deno.mkdir(join(tree, "bin"), { recursive: true });
  await Deno.writeTextFile(
    join(tree, "conf", "userconfig.xml"),
    `<safe><service mode="mirror" failover="${o.failover ?? "on"}"${o.boot ? ` boot="${o.boot}"` : ""}${
      o.serviceAttrs ? ` ${o.serviceAttrs}` : ""
    }>
  <heart pulse="${o.pulse ?? "200ms"}" timeout="${o.timeout ?? "1s"}"><heartbeat name="default"/></heart>
  ${o.extra ?? ""}
  <user nicestoptimeout="${o.niceStop ?? "10s"}" forcestoptimeout="${o.forceStop ?? "10s"}"/>
</service></safe>`,
  );
  const names = new Set(["prestart", "start_prim", "stop_prim", "start_second", "stop_second", "poststop"]);
  for (const extra of Object.keys(o.scripts ?? {})) names.add(extra);
  for (const s of names) {
    await Deno.writeTextFile(join(tree, "bin", s), o.scripts?.[s] ?? RECORD, { mode: 0o755 });
    await Deno.chmod(join(tree, "bin", s), 0o755);
  }
  const file = join(root, `mirror-${crypto.randomUUID()}.safe`);
  await Deno.writeFile(file, await packageModuleDir(tree));
  return file;
}

export async function setupMirror(n1: TestNode, n2: TestNode, root: string, o: MirrorModuleOptions = {}) {
  await Deno.writeTextFile(join(root, "cluster.xml"), clusterXml([n1, n2]));
  await n1.ok("cluster", "config", "cluster.xml");
  await n1.ok("cluster", "export", "bundle.zip");
  await n2.ok("cluster", "config", "bundle.zip");
  await n1.ok("module", "install", "-m", MODULE, await mirrorSafe(root, o));
  await n1.ok("config", "-m", MODULE);
  await n1.ok("-H", "*", "-E", MODULE);
}

export type StateView = { local: string; qualifier: string; remote?: string };

export async function stateOf(node: TestNode): Promise<StateView | null> {
  const r = await node.api<{ state: StateView | null }>(`/api/v1/modules/${MODULE}`);
  return r && r.status === 200 ? r.body.state : null;
}

/** Polls until the node shows `local qualifier`; returns the time it was first seen. */
export async function waitState(node: TestNode, want: string, timeoutMs = 20_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last: StateView | null = null;
  while (Date.now() < deadline) {
    last = await stateOf(node);
    if (last && `${last.local} ${last.qualifier}` === want) return Date.now();
    await new Promise((r) => setTimeout(r, 50));
  }
  const log = await node.cli("log", "-m", MODULE, "-s", "40");
  throw new Error(`${node.name} did not reach ${want} (last: ${JSON.stringify(last)})\n${log.stdout}`);
}

export async function scriptRuns(node: TestNode): Promise<{ at: number; script: string; args: string }[]> {
  const text = await Deno.readTextFile(join(node.safevar, "modules", MODULE, "scripts.log")).catch(() => "");
  return text.trim().split("\n").filter(Boolean).map((l) => {
    const [at, script, ...args] = l.split(" ");
    return { at: Number(at), script, args: args.join(" ") };
  });
}

/** prim on the first node, second on the other, until PRIM Ready / SECOND Ready. */
export async function establishPair(prim: TestNode, second: TestNode): Promise<void> {
  await prim.ok("prim", "-m", MODULE);
  await waitState(prim, "ALONE Ready");
  await second.ok("second", "-m", MODULE);
  await waitState(second, "SECOND Ready");
  await waitState(prim, "PRIM Ready");
}

/** Polls the module log (verbose, its last 400 lines) until `re` matches; returns the log text. */
export async function waitLog(
  node: { readonly name?: string; ok(...a: string[]): Promise<string> },
  re: RegExp,
  timeoutMs = 15_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let log = "";
  while (Date.now() < deadline) {
    log = await node.ok("log", "-m", MODULE, "-A", "-s", "400");
    if (re.test(log)) return log;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${node.name ?? "node"}: no log line ${re} in:\n${log}`);
}
