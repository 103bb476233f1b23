// A throwaway L2 lab: a bridge in its own namespace and one namespace per host, joined by veth pairs.
// Every name carries a random tag so parallel runs never collide; close() removes every namespace (and
// with them every interface, address and nft table inside). Nothing touches the root namespace.

import { type HostCommands, runChecked, systemCommands } from "../../../src/net/host_commands.ts";

export const LAB_SUBNET = "10.99.0";

export type LabHost = {
  readonly name: string;
  readonly ns: string;
  readonly ifname: string;
  readonly ip: string;
  readonly mac: string;
  readonly cmds: HostCommands;
};

export type Lab = {
  readonly tag: string;
  readonly hosts: Readonly<Record<string, LabHost>>;
  close(): Promise<void>;
};

const root = systemCommands();

/**
 * hosts: name -> last byte of its address (names: up to 6 lowercase letters or digits, so that the bridge
 * port `p<name>` stays a valid interface name); `subnet`: the first three bytes (default LAB_SUBNET);
 * `subnet6`: an IPv6 /64 prefix such as "fd99:" (each host also gets <subnet6>:<last byte in hex>/64,
 * nodad); `tagPrefix`: how namespace names start (default "sk").
 */
export async function createLab(
  hosts: Record<string, number>,
  opts: { subnet?: string; subnet6?: string; tagPrefix?: string } = {},
): Promise<Lab> {
  const subnet = opts.subnet ?? LAB_SUBNET;
  const tag = `${opts.tagPrefix ?? "sk"}${
    crypto.getRandomValues(new Uint8Array(3)).reduce((s, b) => s + b.toString(16).padStart(2, "0"), "")
  }`;
  const sw = `${tag}-sw`;
  const made: string[] = [];
  const out: Record<string, LabHost> = {};
  const close = async () => {
    for (const ns of made.reverse()) await root.run("ip", ["netns", "del", ns]);
  };
  try {
    await runChecked(root, "ip", ["netns", "add", sw]);
    made.push(sw);
    await runChecked(root, "ip", ["-n", sw, "link", "add", "br0", "type", "bridge"]);
    await runChecked(root, "ip", ["-n", sw, "link", "set", "br0", "up"]);
    let i = 0;
    for (const [name, last] of Object.entries(hosts)) {
      const ns = `${tag}-${name}`;
      const mac = `02:00:00:00:00:${(++i).toString(16).padStart(2, "0")}`;
      await runChecked(root, "ip", ["netns", "add", ns]);
      made.push(ns);
      await runChecked(root, "ip", [
        "-n",
        sw,
        "link",
        "add",
        `p${name}`,
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "address",
        mac,
        "netns",
        ns,
      ]);
      await runChecked(root, "ip", ["-n", sw, "link", "set", `p${name}`, "master", "br0", "up"]);
      await runChecked(root, "ip", ["-n", ns, "link", "set", "lo", "up"]);
      await runChecked(root, "ip", ["-n", ns, "link", "set", "eth0", "up"]);
      await runChecked(root, "ip", ["-n", ns, "addr", "add", `${subnet}.${last}/24`, "dev", "eth0"]);
      if (opts.subnet6) {
        const addr6 = `${opts.subnet6}:${last.toString(16)}/64`;
        await runChecked(root, "ip", ["-n", ns, "addr", "add", addr6, "dev", "eth0", "nodad"]);
      }
      out[name] = { name, ns, ifname: "eth0", ip: `${subnet}.${last}`, mac, cmds: systemCommands(ns) };
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { tag, hosts: out, close };
}

/** The client's neighbour entry for an address: its MAC, or null. */
export async function neighbourMac(h: LabHost, addr: string): Promise<string | null> {
  const out = await runChecked(h.cmds, "ip", ["-j", "neigh", "show", addr]);
  const entries = JSON.parse(out || "[]") as { lladdr?: string }[];
  return entries[0]?.lladdr ?? null;
}

export type NetnsProcess = {
  readonly lines: AsyncIterator<string>;
  readonly child: Deno.ChildProcess;
  /** next line of stdout, or throws after timeoutMs */
  next(timeoutMs: number): Promise<string>;
  kill(): Promise<void>;
};

const here = new URL(".", import.meta.url).pathname;

/** Runs tests/net/support/<script> with deno inside a namespace, reading its stdout line by line. */
export function spawnInNetns(ns: string, script: string, args: string[]): NetnsProcess {
  const child = new Deno.Command("ip", {
    args: ["netns", "exec", ns, Deno.execPath(), "run", "-A", `${here}${script}`, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(lineSplitter())[
    Symbol.asyncIterator
  ]();
  return {
    child,
    lines,
    async next(timeoutMs) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const r = await Promise.race([
          lines.next(),
          new Promise<never>((_, rej) => {
            timer = setTimeout(
              () => rej(new Error(`${script}: no output within ${timeoutMs} ms`)),
              timeoutMs,
            );
          }),
        ]);
        if (r.done) throw new Error(`${script} exited`);
        return r.value;
      } finally {
        clearTimeout(timer);
      }
    },
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await child.status;
      await lines.return?.();
    },
  };
}

function lineSplitter(): TransformStream<string, string> {
  let buf = "";
  return new TransformStream({
    transform(chunk, ctl) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        ctl.enqueue(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    },
    flush(ctl) {
      if (buf) ctl.enqueue(buf);
    },
  });
}
