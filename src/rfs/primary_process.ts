// The primary's replication process (`safekit rfs-primary`, started by the node service): it mounts each
// replicated directory in place with the FUSE server and sends every change to the secondary through one
// ReplicationClient, whose reply handling must live in the process that serves the mount (docs/replication.md).
// It talks to the node service over its stdin/stdout, one JSON object a line:
//   in:  {config} first, then {"cmd":"connect"} | {"cmd":"diff"} | {"cmd":"stop"}
//   out: {"event":"mounted","frameTag"} | {"event":"connected"} | {"event":"connect_failed","reason"} |
//        {"event":"lost","reason"} | {"event":"synced"} | {"event":"error","message"} | {"event":"stopped"} |
//        {"event":"diff","dirs"|"error"} (rfsdiff) | {"event":"stats",bytesSent,reiBytes,opsSent,opsAcked,...}
import { mountReplicatedDir, type ReplicatedMount } from "./fuse/mod.ts";
import { ReplicationClient } from "./replication_client.ts";
import { replicationFilter } from "./replication_filter.ts";
import type { ReplicationSink, TreeOp } from "./tree_op.ts";
import { PrimaryZones } from "./zones/primary_zones.ts";
import { frameTagBackend } from "./protocol/openssl_aad_tag.ts";

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
  /** Where the zone bitmaps live (SAFEVAR/modules/AM); unset = no zone tracking (full or date resyncs only). */
  readonly stateDir?: string;
  /** <rfs ruzone_blocksize> */
  readonly zoneSize?: number;
  /** FUSE read passthrough (default on) and the kernel's writeback cache (default off). */
  readonly readPassthrough?: boolean;
  readonly writebackCache?: boolean;
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
  let zones: PrimaryZones | null = null;
  const mounts: ReplicatedMount[] = [];
  try {
    // Before the mounts: a change accepted from here on is in the bitmaps (the files say "not clean").
    if (cfg.stateDir !== undefined) {
      try {
        zones = new PrimaryZones(cfg.stateDir, cfg.zoneSize ?? 8 << 20, cfg.dirs.length);
      } catch (e) {
        // Replicating matters more than the bitmaps: without them the next resyncs compare or go by date.
        emit({ event: "error", message: `zone bitmaps unavailable: ${(e as Error).message}` });
      }
    }
    for (const [i, d] of cfg.dirs.entries()) {
      // The zone bitmaps see every change before it is sent, in the same synchronous stretch.
      const sink: ReplicationSink = {
        apply: (op: TreeOp) => {
          zones?.note(i, op);
          return client ? client.sink(i).apply(op) : Promise.resolve();
        },
        diverged: (reason: string) => client?.sink(i).diverged?.(reason),
      };
      mounts.push(
        await mountReplicatedDir(d.dir, {
          sink,
          passthrough: cfg.readPassthrough ?? true,
          writebackCache: cfg.writebackCache ?? false,
          onError: (e) => emit({ event: "error", message: String(e) }),
        }),
      );
    }
    zones?.serve(mounts.map((m) => m.root.fd));
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
      onSecondaryLost: (reason) => {
        zones?.secondaryLost();
        emit({ event: "lost", reason });
      },
      onSecondarySynced: () => {
        zones?.secondarySynced(Date.now());
        emit({ event: "synced" });
      },
    });
    zones?.attach(client);
    emit({ event: "mounted", frameTag: frameTagBackend() });
    // Counters for the node service (rfs.rep_bandwidth, rfs.rei_bandwidth, /metrics), about once a second.
    const c = client;
    let lastStats = "";
    const statsTimer = setInterval(() => {
      const st = c.stats;
      const line = JSON.stringify({
        event: "stats",
        bytesSent: st.bytesSent,
        reiBytes: st.reiBytes,
        opsSent: st.opsSent,
        opsAcked: st.opsAcked,
        opsWhileAlone: st.opsWhileAlone,
      });
      if (line !== lastStats) {
        lastStats = line;
        Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));
      }
    }, 1000);
    Deno.unrefTimer(statsTimer);
  } catch (e) {
    emit({ event: "error", message: `mount failed: ${(e as Error).message}` });
    for (const m of mounts) await m.unmount().catch(() => {});
    zones?.close();
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
    } else if (cmd.cmd === "diff") {
      // rfsdiff: what the next reintegration would copy, from the live zone maps.
      if (!zones) emit({ event: "diff", error: "zone tracking is off (no state directory)" });
      else {
        try {
          emit({ event: "diff", dirs: zones.summary(mounts.map((m) => m.root.fd)) });
        } catch (e) {
          emit({ event: "diff", error: (e as Error).message });
        }
      }
    } else if (cmd.cmd === "stop") {
      break;
    }
  }
  let unmounted = true;
  for (const m of mounts) {
    await m.unmount().catch((e) => {
      unmounted = false;
      emit({ event: "error", message: String(e) });
    });
  }
  await client.close().catch(() => {});
  // A mount that would not go away may still take writes: leave the map "not clean" (date fallback).
  if (unmounted) zones?.close();
  emit({ event: "stopped" });
  return 0;
}
