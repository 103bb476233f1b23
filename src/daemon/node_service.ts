// The node service (SafeKit's safeadmin): one long-running process per node that owns the node's modules,
// stores, cluster membership and web service. It is the only writer of the node's stores; the CLI and
// other nodes reach it through the API (control socket locally, port 9010 on the node's address).
import { join } from "node:path";
import { nodeNames } from "../config/mod.ts";
import { type MembershipChange, MembershipService } from "../heart/mod.ts";
import { stripBrackets } from "../platform/local_addresses.ts";
import type { NodePaths } from "../platform/node_paths.ts";
import { CommandLog, ModuleRegistry } from "../store/mod.ts";
import { buildApp, type Env } from "../web/app.ts";
import { serveHttpRedirect, serveHttps } from "../web/https_server.ts";
import { pkiFiles, readServerTls, sanEntriesOf } from "../web/pki/mod.ts";
import { X509Certificate } from "@peculiar/x509";
import { clusterCaClient } from "../cli/remote_client.ts";
import { type AuthService, createFileAuthService } from "../web/auth/mod.ts";
import { NonceCache, verifyPeerRequest } from "../web/peer_auth.ts";
import { type Caller, callerLabel } from "../web/route_table.ts";
import { VERSION } from "../cli/version.ts";
import { apiRoutes } from "./api_routes.ts";
import { consoleRoutes } from "./console_routes.ts";
import { farmRoutes } from "./farm_routes.ts";
import { rfsVerifyRoutes } from "./rfs_verify_routes.ts";
import { rfsSyncRoutes } from "./rfs_sync_routes.ts";
import { ClusterManager } from "./cluster_manager.ts";
import { isProbeReady } from "./module_states.ts";
import { ModuleManager } from "./module_manager.ts";
import { MirrorRuntime } from "./mirror_runtime.ts";
import { FarmRuntime } from "./farm_runtime.ts";
import type { Hono } from "hono";

export const WEB_PORT = 9010;
export const HTTPS_PORT = 9453;
const PROBE_PATH = /^\/var\/modules\/[^/]+\/ready\.txt$/;

export type NodeServiceOptions = {
  readonly paths: NodePaths;
  /** SAFENODE: which cluster.xml node this is, when several have a local address. */
  readonly safenode?: string;
  /** Environment for userconfig.xml macro expansion. */
  readonly env?: Record<string, string>;
  readonly log?: (line: string) => void;
};

export class NodeService {
  readonly paths: NodePaths;
  readonly cluster: ClusterManager;
  readonly modules: ModuleManager;
  readonly commandLog: CommandLog;
  readonly registry: ModuleRegistry;
  readonly startedAt = Date.now();
  readonly app: Hono<Env>;
  readonly auth: AuthService;
  #ready = new Set<string>();
  #readySince = new Map<string, number>();
  #control: Deno.HttpServer | null = null;
  #web: Deno.HttpServer | null = null;
  #webAddr: string | null = null;
  #webMode: string | null = null;
  #redirect: Deno.HttpServer | null = null;
  #scheme: "http" | "https" = "http";
  /** HTTPS mode: trusts the cluster CA for calls to the other nodes. */
  peerHttpClient: Deno.HttpClient | undefined;
  #membership: MembershipService | null = null;
  #nonces = new NonceCache();
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #booted = false;
  /** What keeps the node off the network right now (shown by `safekit level` and the API). */
  networkProblems: string[] = [];
  #log: (line: string) => void;

  constructor(readonly options: NodeServiceOptions) {
    this.paths = options.paths;
    this.#log = options.log ?? ((l) => console.error(l));
    this.commandLog = new CommandLog(this.paths.commandLogDb);
    this.registry = new ModuleRegistry(this.paths.nodeResourceDb);
    this.cluster = new ClusterManager(this.paths, options.safenode);
    this.modules = new ModuleManager(
      this.paths,
      this.registry,
      this.commandLog,
      () => options.env ?? Deno.env.toObject(),
      () => this.cluster.active?.config ?? null,
      () => this.#refreshReady(),
      (rt, onStateChange) => {
        const active = this.cluster.active;
        const key = this.cluster.key;
        if (!rt.config || !rt.log || !rt.resources) return null;
        if (rt.mode !== "mirror") {
          return new FarmRuntime({
            paths: this.paths,
            module: rt.name,
            id: rt.id,
            config: rt.config,
            cluster: active?.config ?? null,
            localNode: active?.localNode ?? Deno.hostname(),
            key,
            log: rt.log,
            resources: rt.resources,
            onStateChange: (view) => onStateChange(view),
          });
        }
        if (!active || !key) {
          throw new Error("the cluster configuration and key are needed to run a mirror module");
        }
        return new MirrorRuntime({
          paths: this.paths,
          module: rt.name,
          id: rt.id,
          config: rt.config,
          cluster: active.config,
          localNode: active.localNode,
          key,
          log: rt.log,
          resources: rt.resources,
          onStateChange: (view) => onStateChange(view),
        });
      },
    );
    this.auth = createFileAuthService({ safe: this.paths.safe, log: (m) => this.#log(`safeadmin: ${m}`) });
    this.app = buildApp({
      auth: this.auth,
      routes: [
        ...apiRoutes(this),
        ...farmRoutes(this),
        ...rfsVerifyRoutes(this),
        ...rfsSyncRoutes(this),
        ...consoleRoutes(this),
      ],
      ready: { isReady: (m) => this.#ready.has(m), readySince: (m) => this.#readySince.get(m) },
      version: VERSION,
      verifyPeer: (header, method, pathAndQuery, body) =>
        verifyPeerRequest(
          this.cluster.key,
          header,
          method,
          pathAndQuery,
          body,
          Date.now(),
          this.#nonces,
          new Set(this.cluster.active ? nodeNames(this.cluster.active.config) : []),
        ),
      recordCommand: (caller, what) => this.#recordCommand(caller, what),
    });
  }

  /** Creates the node's folders, loads what is on disk, and opens the control socket and the network. */
  async start(): Promise<void> {
    for (
      const d of [this.paths.safe, this.paths.safevar, this.paths.clusterDir, join(this.paths.safevar, "run")]
    ) {
      await Deno.mkdir(d, { recursive: true });
    }
    for (const p of await this.cluster.load()) this.#log(`safeadmin: ${p}`);
    for (const p of await this.modules.load()) this.#log(`safeadmin: ${p}`);
    this.#refreshReady();
    await this.#openControlSocket();
    await this.applyNetwork();
    await Deno.writeTextFile(this.paths.pidFile, `${Deno.pid}\n`);
    this.commandLog.info({
      at: Date.now(),
      action: "safeadmin",
      message: `node service started (pid ${Deno.pid})`,
    });
  }

  async #openControlSocket(): Promise<void> {
    const path = this.paths.controlSocket;
    // A socket file left by a killed service would block the bind; a live service answering there means a
    // second service was started on the same SAFEVAR, which must fail.
    try {
      const conn = await Deno.connect({ transport: "unix", path });
      conn.close();
      throw new Error(`another node service is already running on ${this.paths.safevar}`);
    } catch (e) {
      if (e instanceof Error && e.message.startsWith("another node service")) throw e;
      await Deno.remove(path).catch(() => {});
    }
    this.#control = Deno.serve(
      { path, onListen() {} },
      (req) => this.app.fetch(req, { transport: { kind: "local" } }),
    );
    // Only root (and the safekit group, when installed) may drive the node service.
    await Deno.chmod(path, 0o660).catch(() => {});
  }

  /**
   * Binds the web service and membership to this node's cluster address; rebinds when it changes. A bind
   * the system refuses (address in use, address not on this host yet) does not undo a valid configuration:
   * it is reported in `networkProblems` and retried every few seconds until it succeeds.
   */
  async applyNetwork(): Promise<string[]> {
    clearTimeout(this.#retryTimer);
    const problems: string[] = [];
    const active = this.cluster.active;
    const addr = active ? this.#bindAddress(active.localNode) : null;
    // HTTPS mode when this node has a server certificate (initssl): 9453 serves, 9010 redirects (spec §9.1).
    const tls = await readServerTls(pkiFiles(this.paths.safe)).catch(() => null);
    const mode = addr ? `${addr} ${tls ? `https ${tls.cert.length}:${tls.cert.slice(-64)}` : "http"}` : null;
    if (mode !== this.#webMode || (addr && !this.#web)) {
      await this.#web?.shutdown().catch(() => {});
      await this.#redirect?.shutdown().catch(() => {});
      this.#web = null;
      this.#redirect = null;
      this.#webMode = mode;
      this.#webAddr = addr;
      this.peerHttpClient?.close();
      this.peerHttpClient = undefined;
      this.#scheme = tls ? "https" : "http";
      if (addr) {
        const serveApp = (req: Request, remoteAddr: string, secure: boolean) =>
          this.app.fetch(req, { transport: { kind: "tcp", remoteAddr, tls: secure } });
        try {
          if (tls) {
            this.#web = serveHttps({
              hostname: addr,
              port: HTTPS_PORT,
              tls,
              handler: (r, ra) => serveApp(r, ra, true),
            });
            const names = sanEntriesOf(new X509Certificate(tls.cert)).map((e) => e.value);
            this.#redirect = serveHttpRedirect({
              hostname: addr,
              port: WEB_PORT,
              httpsPort: HTTPS_PORT,
              knownHosts: names,
              fallbackHost: addr,
              // Load balancers probe http://node:9010 and often do not follow redirects: the probe stays.
              keepOnHttp: { match: (p) => PROBE_PATH.test(p), handler: (r, ra) => serveApp(r, ra, false) },
            });
            this.peerHttpClient = await clusterCaClient(pkiFiles(this.paths.safe).cacert);
          } else {
            this.#web = Deno.serve(
              { hostname: addr, port: WEB_PORT, onListen() {} },
              (req, info) => serveApp(req, (info.remoteAddr as Deno.NetAddr).hostname, false),
            );
          }
        } catch (e) {
          problems.push(`web service not listening on ${addr}: ${(e as Error).message}`);
        }
      }
    }
    await this.#membership?.close();
    this.#membership = null;
    if (active && !this.cluster.key) {
      problems.push("no cluster key: membership is off until 'safekit cluster genkey' (or a cluster bundle)");
    }
    if (active && this.cluster.key) {
      try {
        this.#membership = await MembershipService.openOverUdp({
          local: active.localNode,
          key: this.cluster.key,
          cluster: active.config,
        });
        this.#membership.onChange((c) => this.#membershipChanged(c));
      } catch (e) {
        problems.push(
          `membership not listening on UDP ${addr}:${active.config.port}: ${(e as Error).message}`,
        );
      }
    }
    // The first time the network is up after the node service started is the module's "boot".
    await this.modules.restartStoppedEngines(!this.#booted);
    this.#booted = true;
    const changed = problems.join("\n") !== this.networkProblems.join("\n");
    this.networkProblems = problems;
    if (changed) { for (const p of problems) this.#log(`safeadmin: ${p} (retrying every 5 s)`); }
    if (problems.some((p) => !p.startsWith("no cluster key"))) {
      this.#retryTimer = setTimeout(() => this.applyNetwork().catch(() => {}), 5000);
    }
    return problems;
  }

  #bindAddress(node: string): string | null {
    const active = this.cluster.active!;
    for (const lan of active.config.lans) {
      const n = lan.nodes.find((x) => x.name === node);
      if (n && lan.name === active.config.commandLan) return stripBrackets(n.laddr ?? n.addr);
    }
    return null;
  }

  #membershipChanged(c: MembershipChange): void {
    this.commandLog.info({ at: Date.now(), action: "cluster", message: describeChange(c) });
  }

  /** The next applyNetwork rebinds the web service (new certificates). */
  forceWebRebind(): void {
    this.#webMode = null;
  }

  /** URL of another node's web service, in this node's mode (http:9010 or https:9453). */
  peerUrl(node: string): string | null {
    return this.cluster.webUrlOf(node, this.#scheme === "https" ? HTTPS_PORT : WEB_PORT, this.#scheme);
  }

  get webMode(): "http" | "https" {
    return this.#scheme;
  }

  isReady(module: string): boolean {
    return this.#ready.has(module);
  }

  membershipView(): { node: string; up: boolean }[] {
    const active = this.cluster.active;
    if (!active) return [];
    const up = new Set(this.#membership?.view() ?? [active.localNode]);
    return nodeNames(active.config).map((n) => ({ node: n, up: up.has(n) }));
  }

  membershipCounters(): Record<string, number> {
    const c = this.#membership?.counters();
    if (!c) return {};
    const dropped = Object.fromEntries(Object.entries(c.dropped).map(([k, v]) => [`dropped_${k}`, v]));
    return { received: c.received, accepted: c.accepted, sent: c.sent, ...dropped };
  }

  readonly #moduleListeners: (() => void)[] = [];

  /** Called after any module's state changed on this node (the console's live stream listens). */
  onModuleChange(listener: () => void): void {
    this.#moduleListeners.push(listener);
  }

  #refreshReady(): void {
    const ready = new Set<string>();
    for (const m of this.modules.list()) if (m.state && isProbeReady(m.mode, m.state)) ready.add(m.name);
    // When each module last became ready: the probe's ETag, so a <module> checker elsewhere sees a restart
    // or a failover even when it happened between two of its polls.
    for (const m of ready) if (!this.#ready.has(m)) this.#readySince.set(m, Date.now());
    for (const m of this.#readySince.keys()) if (!ready.has(m)) this.#readySince.delete(m);
    this.#ready = ready;
    for (const l of this.#moduleListeners) {
      try {
        l();
      } catch { /* a listener's failure is not the state change's */ }
    }
  }

  #recordCommand(caller: Caller, what: string): (code: number) => void {
    const label = callerLabel(caller);
    const user = caller.kind === "local" ? undefined : label;
    const module = /(?:^|\s)-m\s+(\S+)/.exec(what)?.[1] ?? /\/modules\/([^/?]+)/.exec(what)?.[1];
    const id = this.commandLog.start({
      at: Date.now(),
      action: "safekit",
      module,
      pid: Deno.pid,
      args: user ? `${what} -u ${user}` : what,
    });
    return (code) => this.commandLog.end(id, { at: Date.now(), code });
  }

  /**
   * Stops every running module as an OS shutdown does ("Action shutdown called by SYSTEM"), so a stopped
   * node service never leaves an application, a virtual IP or open farm buckets behind. Bounded: a module
   * still not stopped after `timeoutMs` is left as it is (its stop scripts have their own timeouts).
   */
  async shutdownModules(timeoutMs = 120_000): Promise<void> {
    const running = this.modules.list().filter((m) => m.engine && m.state && m.state.local !== "STOP");
    for (const m of running) await m.engine!.command("shutdown", "SYSTEM", {}).catch(() => {});
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && running.some((m) => m.state && m.state.local !== "STOP")) {
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    clearTimeout(this.#retryTimer);
    await this.modules.stopAllEngines();
    await this.#membership?.close();
    await this.#web?.shutdown().catch(() => {});
    await this.#redirect?.shutdown().catch(() => {});
    this.peerHttpClient?.close();
    await this.#control?.shutdown().catch(() => {});
    this.commandLog.info({ at: Date.now(), action: "safeadmin", message: "node service stopped" });
    this.modules.close();
    this.commandLog.close();
    this.registry.close();
    await Deno.remove(this.paths.controlSocket).catch(() => {});
    await Deno.remove(this.paths.pidFile).catch(() => {});
  }
}

function describeChange(c: MembershipChange): string {
  const fields = Object.entries(c).filter(([k]) => k !== "kind").map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `membership: ${c.kind} ${fields.join(" ")}`.trim();
}
