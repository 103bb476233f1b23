// A replicating pair for the benchmarks: the secondary (ReplicationServer) runs in its own process, as it
// does on a real second node (its CPU work must not share the FUSE server's JS thread); the primary side
// (FUSE mount + ReplicationClient) runs in the calling process. Both directories start empty, so they are
// equal and the secondary is told it is synced without a reintegration.
//
// Run as a script, this file is the secondary: deno run -A replication_pair.ts <host> <dir>
// It prints its port on stdout and runs until stdin closes.

import { mountReplicatedDir, type ReplicatedMount } from "../../src/rfs/fuse/mod.ts";
import { ReplicationClient } from "../../src/rfs/replication_client.ts";
import { ReplicationServer } from "../../src/rfs/replication_server.ts";
import type { FuseMountOptions } from "../../src/rfs/fuse/fuse_session.ts";

const KEY = new Uint8Array(32).map((_, i) => i * 13 + 5);
export const BENCH_HOST = "127.0.0.91";

export type ReplicatingMount = {
  readonly mount: ReplicatedMount;
  readonly client: ReplicationClient;
  /** The secondary's process (for its CPU time in /proc). */
  readonly secondaryPid: number;
  close(): Promise<void>;
};

/** Starts the secondary process on `secDir`, mounts `primDir` and connects it to the secondary. */
export async function startReplicatingMount(
  primDir: string,
  secDir: string,
  opts: { async?: "second" | "none" } & FuseMountOptions = {},
): Promise<ReplicatingMount> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, BENCH_HOST, secDir],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the bench secondary exited before listening");
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  void child.stdout.cancel();
  const port = Number(text.trim());
  const stdin = child.stdin.getWriter();
  let client: ReplicationClient | null = null;
  const mount = await mountReplicatedDir(primDir, {
    ...opts,
    sink: { apply: (op) => client!.apply(op), diverged: (reason) => client!.diverged(reason) },
  });
  client = new ReplicationClient({
    host: BENCH_HOST,
    port,
    clusterKey: KEY,
    node: "bench1",
    module: "bench",
    roots: [mount.root.fd],
    async: opts.async ?? "second",
    lockTimeoutMs: 30_000,
    sendTimeoutMs: 30_000,
  });
  await client.connect();
  // Wait until the secondary marked the session synced (it answers with "synced").
  const c = client as ReplicationClient;
  for (let i = 0; c.needsResync && i < 500; i++) await new Promise((r) => setTimeout(r, 10));
  if (c.needsResync) throw new Error("the bench secondary did not report synced");
  return {
    mount,
    client: client!,
    secondaryPid: child.pid,
    async close() {
      await mount.unmount();
      await client!.close();
      await stdin.close().catch(() => {});
      await child.status;
    },
  };
}

if (import.meta.main) {
  const [host, dir] = Deno.args;
  const server = new ReplicationServer({
    hostname: host,
    port: 0,
    clusterKey: KEY,
    module: "bench",
    dirs: [dir],
    onSession: (s) => s.markSynced(),
    log: (level, m) => level === "E" && console.error(`bench secondary: ${m}`),
  });
  server.start();
  console.log(server.port);
  // Runs until the parent closes stdin.
  for await (const _ of Deno.stdin.readable) { /* nothing to read */ }
  await server.close();
}
