// The primary's replication process (`safekit rfs-primary`, started by the node service): it mounts each
// replicated directory in place with the FUSE server and sends every change to the secondary through one
// ReplicationClient, whose reply handling must live in the process that serves the mount (docs/replication.md).
// It talks to the node service over its stdin/stdout, one JSON object a line:
//   in:  {config} first, then {"cmd":"connect"} | {"cmd":"stop"}
//   out: {"event":"mounted"} | {"event":"connected"} | {"event":"connect_failed","reason"} |
//        {"event":"lost","reason"} | {"event":"synced"} | {"event":"error","message"} | {"event":"stopped"}
import { mountReplicatedDir, type ReplicatedMount } from "./fuse/mod.ts";
import { ReplicationClient } from "./replication_client.ts";
import { replicationFilter } from "./replication_filter.ts";
import type { ReplicationSink, TreeOp } from "./tree_op.ts";

export type PrimaryProcessConfig = {
  readonly module: string;
  readonly node: string;
  readonly peerAddr: string;
  readonly port: number;
  readonly keyHex: string;
  readonly async: "second" | "none";
  readonly lockTimeoutMs: number;
  readonly sendTimeoutMs: number;
  readonly dirs: readonly {
    dir: string;
    notReplicatedPaths: readonly string[];
    notReplicatedRegexps: readonly string[];
  }[];
};

function emit(event: Record<string, unknown>): void {
  Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(event) + "\n"));
}

export async function runPrimaryProcess(): Promise<number> {
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const nextLine = async (): Promise<string | null> => {
    for (;;) {
      const i = buffer.indexOf("\n");
      if (i >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        return line;
      }
      const { value, done } = await lines.read();
      if (done) return null;
      buffer += value;
    }
  };
  const first = await nextLine();
  if (!first) return 2;
  const cfg = JSON.parse(first) as PrimaryProcessConfig;
  const key = Uint8Array.from(cfg.keyHex.match(/../g)!.map((h) => parseInt(h, 16)));

  // Changes reach the client once it exists; before that (mounting) nothing is written through the mounts.
  let client: ReplicationClient | null = null;
  const mounts: ReplicatedMount[] = [];
  try {
    for (const [i, d] of cfg.dirs.entries()) {
      const sink: ReplicationSink = {
        apply: (op: TreeOp) => client ? client.sink(i).apply(op) : Promise.resolve(),
      };
      mounts.push(
        await mountReplicatedDir(d.dir, {
          sink,
          onError: (e) => emit({ event: "error", message: String(e) }),
        }),
      );
    }
    client = new ReplicationClient({
      host: cfg.peerAddr,
      port: cfg.port,
      clusterKey: key,
      node: cfg.node,
      module: cfg.module,
      roots: mounts.map((m) => m.root.fd),
      filters: cfg.dirs.map((d) => replicationFilter(d)),
      async: cfg.async,
      lockTimeoutMs: cfg.lockTimeoutMs,
      sendTimeoutMs: cfg.sendTimeoutMs,
      onSecondaryLost: (reason) => emit({ event: "lost", reason }),
      onSecondarySynced: () => emit({ event: "synced" }),
    });
    emit({ event: "mounted" });
  } catch (e) {
    emit({ event: "error", message: `mount failed: ${(e as Error).message}` });
    for (const m of mounts) await m.unmount().catch(() => {});
    return 1;
  }

  for (;;) {
    const line = await nextLine();
    // The node service went away: unmount cleanly rather than leave a mount nobody controls.
    if (line === null) break;
    let cmd: { cmd?: string };
    try {
      cmd = JSON.parse(line);
    } catch {
      continue;
    }
    if (cmd.cmd === "connect") {
      if (client.state === "connected" || client.state === "connecting") continue;
      client.connect().then(
        () => emit({ event: "connected" }),
        (e) => emit({ event: "connect_failed", reason: (e as Error).message }),
      );
    } else if (cmd.cmd === "stop") {
      break;
    }
  }
  for (const m of mounts) await m.unmount().catch((e) => emit({ event: "error", message: String(e) }));
  await client.close().catch(() => {});
  emit({ event: "stopped" });
  return 0;
}
