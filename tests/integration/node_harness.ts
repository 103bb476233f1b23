// Starts real node services (`safekit daemon` processes) with their own SAFE/SAFEVAR roots and drives them
// only through the real CLI and HTTP, as an administrator would.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { signPeerRequest } from "../../src/web/peer_auth.ts";
import { waitPortsFree } from "../support/ports.ts";

export const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

export type CliResult = { code: number; stdout: string; stderr: string };

export class TestNode {
  child: Deno.ChildProcess | null = null;
  readonly safe: string;
  readonly safevar: string;

  constructor(readonly name: string, readonly addr: string, readonly root: string) {
    this.safe = join(root, name, "safe");
    this.safevar = join(root, name, "var");
  }

  get env(): Record<string, string> {
    return {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: Deno.env.get("HOME") ?? "/tmp",
      DENO_DIR: Deno.env.get("DENO_DIR") ?? "",
      SAFE: this.safe,
      SAFEVAR: this.safevar,
      SAFENODE: this.name,
      NO_COLOR: "1",
    };
  }

  async start(): Promise<void> {
    const log = await Deno.open(join(this.root, `${this.name}.daemon.log`), {
      create: true,
      append: true,
      write: true,
    });
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-prompt", MAIN, "daemon"],
      env: this.env,
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.child.stderr.pipeTo(log.writable).catch(() => {});
    const deadline = Date.now() + 30_000;
    let exited: Deno.CommandStatus | null = null;
    this.child.status.then((st) => exited = st);
    while (Date.now() < deadline) {
      if (exited) {
        throw new Error(
          `node ${this.name} exited (${JSON.stringify(exited)}); see ${this.root}/${this.name}.daemon.log`,
        );
      }
      const r = await this.cli("level");
      if (r.code === 0) return;
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error(`node ${this.name} did not start; see ${this.root}/${this.name}.daemon.log`);
  }

  async cli(...args: string[]): Promise<CliResult> {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-prompt", MAIN, ...args],
      env: this.env,
      clearEnv: true,
      cwd: this.root,
      stdin: "null",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  }

  /** Runs a CLI verb and fails the test with its output when it does not exit 0. */
  async ok(...args: string[]): Promise<string> {
    const r = await this.cli(...args);
    if (r.code !== 0) throw new Error(`safekit ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  /**
   * A read over this node's HTTP API, signed with its cluster key as a cluster node would (reads need a
   * user or a peer since the web service has logins). Null when the node does not answer in time.
   */
  async api<T = unknown>(path: string, timeoutMs = 1000): Promise<{ status: number; body: T } | null> {
    try {
      const hex = (await Deno.readTextFile(join(this.safevar, "cluster", "cluster.key"))).trim();
      const key = Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
      const sig = await signPeerRequest(key, this.name, "GET", path, new Uint8Array(), Date.now());
      const r = await fetch(`http://${this.addr}:9010${path}`, {
        headers: { "x-safekit-peer": sig },
        signal: AbortSignal.timeout(timeoutMs),
      });
      return { status: r.status, body: await r.json() as T };
    } catch {
      return null;
    }
  }

  kill(signal: Deno.Signal = "SIGKILL"): void {
    try {
      this.child?.kill(signal);
    } catch { /* already gone */ }
  }

  async stop(): Promise<void> {
    if (!this.child) return;
    this.kill("SIGTERM");
    const timer = setTimeout(() => this.kill("SIGKILL"), 5000);
    await this.child.status;
    clearTimeout(timer);
    this.child = null;
  }

  async waitExit(): Promise<Deno.CommandStatus> {
    const s = await this.child!.status;
    this.child = null;
    return s;
  }
}

export function clusterXml(nodes: readonly TestNode[]): string {
  return `<cluster>\n  <lans [port]>\n    <lan name="default">\n${
    nodes.map((n) => `      <node name="${n.name}" addr="${n.addr}"/>`).join("\n")
  }\n    </lan>\n  </lans>\n</cluster>\n`.replace(" [port]", "");
}

export async function withNodes(
  names: readonly [string, string][],
  fn: (nodes: TestNode[], root: string) => Promise<void>,
): Promise<void> {
  await waitPortsFree(names.map(([, a]) => a), 9010);
  const root = await Deno.makeTempDir({ prefix: "safekit-it-" });
  const nodes = names.map(([n, a]) => new TestNode(n, a, root));
  try {
    await Promise.all(nodes.map((n) => n.start()));
    await fn(nodes, root);
  } catch (e) {
    for (const n of nodes) {
      const log = await Deno.readTextFile(join(root, `${n.name}.daemon.log`)).catch(() => "");
      if (log) console.error(`--- ${n.name} daemon log ---\n${log.slice(-3000)}`);
    }
    throw e;
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}
