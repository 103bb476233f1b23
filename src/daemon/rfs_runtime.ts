// Replication of a mirror module's <rfs> directories, driven by the mirror runtime (docs/replication.md).
// Primary (PRIM/ALONE): a child process (`safekit rfs-primary`) mounts each directory in place with the FUSE
// server and replicates every change synchronously; it connects to the secondary whenever the peer is
// SECOND. Secondary: a ReplicationServer on the flow lan, port 5600+(id−1)×4, applies the changes; a
// reintegration (startResync) copies what differs from the primary, while changes keep flowing.
import { type ClusterConfig, type ModuleConfig, rfsPort } from "../config/mod.ts";
import { keyToHex } from "./cluster_manager.ts";
import { join } from "node:path";
import { reintegrate, replicationFilter, ReplicationServer } from "../rfs/mod.ts";
import { frameTagBackend } from "../rfs/protocol/openssl_aad_tag.ts";
import { resumeKey } from "../rfs/reintegration.ts";
import {
  forgetSyncState,
  loadSyncState,
  saveSyncState,
  syncStateFile,
  withClean,
} from "../rfs/zones/sync_record.ts";
import { clearStaleMount } from "../rfs/fuse/mod.ts";
import { MountWatchdog } from "../rfs/mount_watchdog.ts";
import type { ZoneSummary } from "../rfs/zones/zone_summary.ts";
import { scrubbedEnv } from "../platform/child_env.ts";
import { selfCommand } from "../platform/self_command.ts";
import type { ResyncMode } from "../core/mirror_types.ts";

type Log = (level: "I" | "E" | "C", component: string, message: string) => void;

/** What the primary's replication process reports about once a second. */
export type ReplicationStats = {
  readonly bytesSent: number;
  readonly reiBytes: number;
  readonly opsSent: number;
  readonly opsAcked: number;
  readonly opsWhileAlone: number;
};

export type RfsEvents = {
  lost(reason: string): void;
  /** The primary's FUSE server died or stopped answering: the module must restart (spec §7.1 checktime). */
  failed(reason: string): void;
  /** The primary's replication counters (cumulative for the current replication process). */
  stats?(s: ReplicationStats): void;
  resyncProgress(percent: number): void;
  resyncFinished(): void;
  resyncFailed(reason: string): void;
};

/** The address of a node on the replication flow lan: the heartbeat with ident "flow", else the first one. */
export function flowAddress(cluster: ClusterConfig, cfg: ModuleConfig, node: string): string {
  const hbs = cfg.heart?.heartbeats ?? [];
  const lanName = cfg.rfs?.flow?.name ?? (hbs.find((h) => h.ident === "flow") ?? hbs[0])?.name;
  const lan = cluster.lans.find((l) => l.name === lanName) ?? cluster.lans[0];
  const n = lan.nodes.find((x) => x.name === node);
  if (!n) throw new Error(`node ${node} is not on the replication lan '${lan.name}'`);
  const a = n.laddr && node !== undefined ? n.laddr : n.addr;
  return a.startsWith("[") ? a.slice(1, -1) : a;
}

export class RfsRuntime {
  #child: Deno.ChildProcess | null = null;
  #writer: WritableStreamDefaultWriter<Uint8Array> | null = null;
  #connected = false;
  #connecting = false;
  #stopped: Promise<void> | null = null;
  #server: ReplicationServer | null = null;
  #resync: AbortController | null = null;
  #lastConnectAt = 0;
  #watchdog: MountWatchdog | null = null;
  #diffWaiter: ((answer: { dirs?: ZoneSummary[]; error?: string }) => void) | null = null;
  /** primaryDown is stopping the child: its exit is expected */
  #stopping = false;
  /** SECOND and in sync: if the session ends while this node lives, the sync record becomes clean */
  #inSync = false;

  constructor(
    private readonly d: {
      module: string;
      id: number;
      config: ModuleConfig;
      cluster: ClusterConfig;
      node: string;
      peer: string;
      key: Uint8Array;
      log: Log;
      events: RfsEvents;
      /** SAFEVAR/modules/AM: zone bitmaps (primary) and the sync record (secondary); default from $SAFEVAR */
      stateDir?: string;
    },
  ) {}

  get #rfs() {
    return this.d.config.rfs!;
  }

  /** Without a state directory there is no zone tracking: resyncs compare, or copy by date or in full. */
  get #stateDir(): string | undefined {
    if (this.d.stateDir !== undefined) return this.d.stateDir;
    const safevar = Deno.env.get("SAFEVAR");
    return safevar ? join(safevar, "modules", this.d.module) : undefined;
  }

  /** syncfs(2) of every replicated directory (`sync -f`): what the record vouches for must be on disk. */
  async #flush(): Promise<void> {
    for (const r of this.#rfs.replicated) {
      const out = await new Deno.Command("sync", { args: ["-f", r.dir], stdout: "null", stderr: "piped" })
        .output();
      if (!out.success) throw new Error(`sync -f ${r.dir}: ${new TextDecoder().decode(out.stderr).trim()}`);
    }
  }

  /** Flushes the replicated file systems, then marks the sync record clean (spec §7.2 case 2). */
  async #markClean(): Promise<void> {
    const dir = this.#stateDir;
    if (!this.#inSync || dir === undefined) return;
    this.#inSync = false;
    try {
      await this.#flush();
      const file = syncStateFile(dir);
      saveSyncState(file, withClean(loadSyncState(file), true));
    } catch (e) {
      this.d.log(
        "E",
        "nfsbox",
        `Sync record not marked clean (next resync by date): ${(e as Error).message}`,
      );
    }
  }

  /** Before start_prim: mount the replicated directories. Refusing to start is safer than not replicating. */
  async primaryUp(): Promise<void> {
    if (this.#child) return;
    // This node's tree moves on its own from now on: its record of a sync point with the peer is void.
    const stateDir = this.#stateDir;
    if (stateDir !== undefined) forgetSyncState(syncStateFile(stateDir));
    const [cmd, ...pre] = selfCommand();
    const child = new Deno.Command(cmd, {
      args: [...pre, "rfs-primary"],
      env: scrubbedEnv(),
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    const mounted = Promise.withResolvers<void>();
    this.#stopped = this.#readEvents(child, mounted).finally(() => {
      if (this.#child === child) this.#child = null;
    });
    await this.#send({
      module: this.d.module,
      node: this.d.node,
      peerAddr: flowAddress(this.d.cluster, this.d.config, this.d.peer),
      port: rfsPort(this.d.id),
      keyHex: keyToHex(this.d.key),
      async: this.#rfs.async,
      lockTimeoutMs: this.#rfs.lockTimeoutMs,
      sendTimeoutMs: this.#rfs.sendTimeoutMs,
      dirs: this.#rfs.replicated.map((r) => ({
        dir: r.dir,
        notReplicatedPaths: r.notReplicatedPaths,
        notReplicatedRegexps: r.notReplicatedRegexps,
      })),
      stateDir,
      zoneSize: this.#rfs.ruZoneBlockSize,
      readPassthrough: this.#rfs.readPassthrough,
      writebackCache: this.#rfs.writebackCache,
    });
    const timer = setTimeout(
      () => mounted.reject(new Error("the replicated directories were not mounted in 30 s")),
      30_000,
    );
    try {
      await mounted.promise;
      this.d.log(
        "I",
        "nfsbox",
        `Replicated directories mounted: ${this.#rfs.replicated.map((r) => r.dir).join(", ")}`,
      );
    } finally {
      clearTimeout(timer);
    }
    this.#watchdog = new MountWatchdog({
      dirs: this.#rfs.replicated.map((r) => r.dir),
      checkTimeMs: this.#rfs.checkTimeMs,
      checkIntervalMs: this.#rfs.checkIntervalMs,
      onFailure: (reason) => this.#failed(child, reason),
    });
    this.#watchdog.start();
  }

  /**
   * The FUSE server died or froze: kill it (a frozen one holds the application's requests; its death
   * aborts them with an error rather than leave them hanging), then ask for a restart of the module. The
   * stale mount is detached when the directories are mounted again.
   */
  #failed(child: Deno.ChildProcess, reason: string): void {
    if (this.#child !== child || this.#stopping) return;
    this.#watchdog?.stop();
    this.#watchdog = null;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    this.d.log("C", "nfsbox", reason);
    this.d.events.failed(reason);
  }

  async #readEvents(child: Deno.ChildProcess, mounted: PromiseWithResolvers<void>): Promise<void> {
    let wasMounted = false;
    let buf = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        let e: { event?: string; reason?: string; message?: string; frameTag?: string };
        try {
          e = JSON.parse(line);
        } catch {
          continue;
        }
        switch (e.event) {
          case "mounted":
            if (e.frameTag) {
              this.d.log("I", "nfsbox", `Replication frames authenticated with Poly1305 by ${e.frameTag}`);
            }
            wasMounted = true;
            mounted.resolve();
            break;
          case "connected":
            this.#connecting = false;
            this.#connected = true;
            this.d.log("I", "nfsbox", `Replication connected to ${this.d.peer}`);
            break;
          case "connect_failed":
            this.#connecting = false;
            break;
          case "stats":
            this.d.events.stats?.(e as unknown as ReplicationStats);
            break;
          case "diff":
            this.#diffWaiter?.(e as { dirs?: ZoneSummary[]; error?: string });
            this.#diffWaiter = null;
            break;
          case "synced":
            this.d.log("I", "nfsbox", "Uptodate replicated file system");
            break;
          case "lost":
            this.#connected = false;
            this.d.log("C", "nfsbox", `Replication to ${this.d.peer} lost: ${e.reason}`);
            this.d.events.lost(e.reason ?? "lost");
            break;
          case "error":
            this.d.log("E", "nfsbox", e.message ?? "error");
            if (String(e.message).startsWith("mount failed")) mounted.reject(new Error(e.message));
            break;
        }
      }
    }
    mounted.reject(new Error("the replication process exited"));
    const st = await child.status;
    // An exit before the mount is primaryUp's failure, reported by its rejection.
    if (wasMounted) {
      this.#failed(child, `Replication process exited unexpectedly (${st.signal ?? `code ${st.code}`})`);
    }
  }

  async #send(obj: unknown): Promise<void> {
    await this.#writer?.write(new TextEncoder().encode(JSON.stringify(obj) + "\n")).catch(() => {});
  }

  /** rfsdiff: what the next reintegration would copy, asked of the replication process (primary only). */
  async diff(): Promise<ZoneSummary[]> {
    if (!this.#child) throw new Error("the replicated directories are not mounted here (not PRIM or ALONE)");
    if (this.#diffWaiter) throw new Error("an rfsdiff is already running");
    const answer = new Promise<{ dirs?: ZoneSummary[]; error?: string }>((resolve) => {
      this.#diffWaiter = resolve;
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("no answer from the replication process in 120 s")), 120_000);
    });
    try {
      await this.#send({ cmd: "diff" });
      const a = await Promise.race([answer, timeout]);
      if (a.error || !a.dirs) throw new Error(a.error ?? "no answer");
      return a.dirs;
    } finally {
      clearTimeout(timer);
      this.#diffWaiter = null;
    }
  }

  /** The peer is SECOND: the primary connects (the secondary waits for it to reintegrate). */
  peerIsSecond(): void {
    if (!this.#child || this.#connected || this.#connecting) return;
    const now = Date.now();
    if (now - this.#lastConnectAt < 1000) return;
    this.#lastConnectAt = now;
    this.#connecting = true;
    void this.#send({ cmd: "connect" });
  }

  /** After the forced stop_prim: unmount (the directories then show the same files directly). */
  async primaryDown(): Promise<void> {
    this.#watchdog?.stop();
    this.#watchdog = null;
    const child = this.#child;
    if (!child) return;
    this.#stopping = true;
    await this.#send({ cmd: "stop" });
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 30_000);
    await this.#stopped?.catch(() => {});
    await child.status;
    clearTimeout(timer);
    this.#child = null;
    this.#stopping = false;
    this.#connected = false;
    this.#connecting = false;
  }

  /** startResync on the secondary: serve the flow port, wait for the primary, copy what differs. */
  secondaryResync(mode: ResyncMode, since?: number): void {
    this.#resync?.abort();
    const ctl = new AbortController();
    this.#resync = ctl;
    this.#inSync = false;
    const stateDir = this.#stateDir;
    const file = stateDir === undefined ? undefined : syncStateFile(stateDir);
    const prev = file === undefined ? undefined : loadSyncState(file);
    const wasClean = prev?.records.some((r) => r?.clean) ?? false;
    const done = new Map(prev?.resume ?? []);
    (async () => {
      // A crash during the reintegration leaves a half-updated tree: not clean until it ends.
      if (file !== undefined && prev !== undefined && wasClean) saveSyncState(file, withClean(prev, false));
      if (!this.#server) {
        // A primary whose replication process was killed (node service crash) leaves a dead FUSE mount on
        // each directory: opened through it, every access fails with ENOTCONN and the reintegration cannot
        // even stat the root. This process serves no mount while SECOND, so detaching a dead one is safe.
        for (const r of this.#rfs.replicated) clearStaleMount(r.dir);
        this.#server = new ReplicationServer({
          hostname: flowAddress(this.d.cluster, this.d.config, this.d.node),
          port: rfsPort(this.d.id),
          clusterKey: this.d.key,
          module: this.d.module,
          dirs: this.#rfs.replicated.map((r) => r.dir),
          // <replicated mode="read_only">: local users cannot write there while this node is SECOND.
          readOnlyDirs: this.#rfs.replicated.map((r) => r.readOnly),
          allowedNodes: new Set([this.d.peer]),
          onDesync: (reason) => {
            this.d.log("E", "nfsbox", `Replication stream lost: ${reason}`);
            // Ops acknowledged and not written are in the primary's recent window (src/rfs/zones/).
            void this.#markClean();
          },
          log: (level, m) => this.d.log(level, "nfsbox", m),
        });
        this.#server.start();
        this.d.log("I", "nfsbox", `Replication frames authenticated with Poly1305 by ${frameTagBackend()}`);
      }
      const session = await this.#server.waitForSession(this.#rfs.reiTimeoutMs);
      const result = await reintegrate({
        session,
        mode,
        since,
        dirs: this.#rfs.replicated.map((r) => ({
          dir: r.dir,
          filter: replicationFilter(r),
          toCheck: r.toCheck,
        })),
        nbRei: this.#rfs.nbRei,
        reiPacketSize: this.#rfs.reiPacketSize,
        reiAllowedBwKBs: this.#rfs.reiAllowedBandwidth,
        reiTimeoutMs: this.#rfs.reiTimeoutMs,
        signal: ctl.signal,
        onProgress: (p) => this.d.events.resyncProgress(p),
        log: (level, m) => this.d.log(level, "reintegre", m),
        zones: prev === undefined ? undefined : {
          records: prev.records,
          resume: prev.resume,
          onFileDone: (d, path, changes) => done.set(resumeKey(d, path), changes),
        },
      });
      if (file !== undefined) {
        saveSyncState(file, {
          records: result.syncPoints.map((p) => (p === null ? null : { ...p, clean: false })),
          resume: new Map(),
        });
      }
      if (!ctl.signal.aborted) this.#inSync = true;
    })().then(
      () => !ctl.signal.aborted && this.d.events.resyncFinished(),
      async (e) => {
        // Interrupted while this node lives: what was copied is kept for the next attempt against the same map.
        if (file !== undefined && prev !== undefined && wasClean) {
          await this.#flush().catch(() => {});
          try {
            saveSyncState(file, withClean({ records: prev.records, resume: done }, true));
          } catch { /* stays not clean: the next resync goes by date */ }
        }
        if (!ctl.signal.aborted) this.d.events.resyncFailed((e as Error).message);
      },
    );
  }

  abortResync(): void {
    this.#resync?.abort();
    this.#resync = null;
  }

  /** Leaving SECOND: stop serving the flow port; a clean stop after a completed resync marks the record clean. */
  async leaveSecond(): Promise<void> {
    this.abortResync();
    const s = this.#server;
    this.#server = null;
    await s?.close().catch(() => {});
    await this.#markClean();
  }

  async close(): Promise<void> {
    await this.leaveSecond();
    await this.primaryDown();
  }
}
