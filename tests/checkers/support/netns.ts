// Network namespaces the checker tests create and remove (root). Everything a test does inside one stays
// there: its own loopback, its own links, no route out.
import type { ProbeResult } from "../../../src/checkers/checker.ts";

export async function sh(cmd: string): Promise<void> {
  const out = await new Deno.Command("sh", { args: ["-c", cmd], stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd}: ${new TextDecoder().decode(out.stderr).trim()}`);
}

/** Creates a namespace named after the test, runs `fn`, and always deletes it. */
export async function withNetns(fn: (ns: string) => Promise<void>): Promise<void> {
  const ns = `skchk${Deno.pid % 100000}${Math.floor(Math.random() * 1000)}`;
  await sh(`ip netns add ${ns}`);
  try {
    await fn(ns);
  } finally {
    await sh(`ip netns del ${ns}`).catch(() => {});
  }
}

const PROBE = new URL("./netns_probe.ts", import.meta.url).pathname;

export async function probeInNetns(ns: string, request: Record<string, unknown>): Promise<ProbeResult> {
  const out = await new Deno.Command("ip", {
    args: ["netns", "exec", ns, Deno.execPath(), "run", "-A", "--no-check", PROBE, JSON.stringify(request)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) throw new Error(`probe in ${ns} failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(text) as ProbeResult;
}
