// A real node service (`safekit daemon`) running inside a lab namespace, and the CLI run inside the same
// namespace: the local verbs go through the control socket under SAFEVAR, and the distributed ones (-H)
// reach the other nodes over the lab's bridge, never from the root namespace.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LabHost } from "./netns_lab.ts";

export const MAIN = fileURLToPath(new URL("../../../main.ts", import.meta.url));

export type ModuleStateView = { local: string; qualifier: string; remote?: string };

export class NetnsNodeService {
  child: Deno.ChildProcess | null = null;
  readonly safe: string;
  readonly safevar: string;
  readonly logFile: string;

  constructor(readonly name: string, readonly host: LabHost, readonly root: string) {
    this.safe = join(root, name, "safe");
    this.safevar = join(root, name, "var");
    this.logFile = join(root, `${name}.daemon.log`);
  }

  get env(): Record<string, string> {
    return {
      PATH: Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin",
      HOME: Deno.env.get("HOME") ?? "/tmp",
      DENO_DIR: Deno.env.get("DENO_DIR") ?? "",
      SAFE: this.safe,
      SAFEVAR: this.safevar,
      SAFENODE: this.name,
      NO_COLOR: "1",
    };
  }

  #inNetns(args: string[]): string[] {
    return ["netns", "exec", this.host.ns, Deno.execPath(), "run", "-A", "--no-prompt", MAIN, ...args];
  }

  async start(): Promise<void> {
    const log = await Deno.open(this.logFile, { create: true, append: true, write: true });
    this.child = new Deno.Command("ip", {
      args: this.#inNetns(["daemon"]),
      env: this.env,
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.child.stderr.pipeTo(log.writable).catch(() => {});
    let exited: Deno.CommandStatus | null = null;
    this.child.status.then((st) => exited = st);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (exited) {
        throw new Error(`node ${this.name} exited (${JSON.stringify(exited)}); see ${this.logFile}`);
      }
      if ((await this.cli("level")).code === 0) return;
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error(`node ${this.name} did not start; see ${this.logFile}`);
  }

  async cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const out = await new Deno.Command("ip", {
      args: this.#inNetns(args),
      env: this.env,
      clearEnv: true,
      cwd: this.root,
      stdin: "null",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  }

  /** A CLI verb that must exit 0 (else the test fails with its output). */
  async ok(...args: string[]): Promise<string> {
    const r = await this.cli(...args);
    if (r.code !== 0) {
      throw new Error(`${this.name}: safekit ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    }
    return r.stdout;
  }

  async state(module: string): Promise<ModuleStateView | null> {
    const r = await this.cli("state", "-m", module, "--json");
    if (r.code !== 0) return null;
    return (JSON.parse(r.stdout) as { state: ModuleStateView | null }).state;
  }

  /** Polls `safekit state` until the module shows `local qualifier`. */
  async waitState(module: string, want: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: ModuleStateView | null = null;
    while (Date.now() < deadline) {
      last = await this.state(module);
      if (last && `${last.local} ${last.qualifier}` === want) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    const log = await this.cli("log", "-m", module, "-s", "40");
    throw new Error(`${this.name} did not reach ${want} (last: ${JSON.stringify(last)})\n${log.stdout}`);
  }

  /** "<epoch ms> <script> <args>" lines the module's scripts appended to SAFEUSERVAR/scripts.log. */
  async scriptRuns(module: string): Promise<{ at: number; script: string; args: string }[]> {
    const text = await Deno.readTextFile(join(this.safevar, "modules", module, "scripts.log")).catch(() =>
      ""
    );
    return text.trim().split("\n").filter(Boolean).map((l) => {
      const [at, script, ...args] = l.split(" ");
      return { at: Number(at), script, args: args.join(" ") };
    });
  }

  async daemonLog(): Promise<string> {
    return await Deno.readTextFile(this.logFile).catch(() => "");
  }
}

/** Every process in a namespace (the daemon, its scripts, the application they started). */
export async function namespacePids(ns: string): Promise<number[]> {
  const out = await new Deno.Command("ip", { args: ["netns", "pids", ns], stdout: "piped", stderr: "null" })
    .output();
  return new TextDecoder().decode(out.stdout).split("\n").filter(Boolean).map(Number);
}

/** SIGKILL to every process of the namespace at once, until none is left (a crash of that host). */
export async function killNamespace(ns: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = await namespacePids(ns);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* already gone */ }
    }
    if (Date.now() > deadline) throw new Error(`processes left in ${ns}: ${pids.join(" ")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
