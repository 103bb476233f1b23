// Installed modules on this node: their trees under SAFE, their active configuration under SAFE/private,
// their stores under SAFEVAR/modules/AM, and the registry in SAFEVAR/resource.db (spec §1.3, §3.5).
// Every operation validates first and changes the node only once everything it needs is known good.
import { join } from "node:path";
import {
  type ClusterConfig,
  configSignature,
  type ModuleConfig,
  parseUserConfig,
  validateModuleAgainstCluster,
} from "../config/mod.ts";
import { buildRuleSet } from "../core/failover_rules/mod.ts";
import { installModuleTree, packageModuleDir, readSafeArchive } from "../module_package/mod.ts";
import { atomicWriteFile, readTextIfExists } from "../platform/atomic_write.ts";
import type { NodePaths } from "../platform/node_paths.ts";
import { SerialQueue } from "../platform/serial_queue.ts";
import {
  type CommandLog,
  type InstalledModule,
  type LogLevel,
  ModuleLog,
  type ModuleRegistry,
  ResourceStore,
} from "../store/mod.ts";
import { type ModuleStateView, STOPPED } from "./module_states.ts";
import { conflict, NodeError, notFound } from "./node_error.ts";

export type ModuleRuntime = {
  readonly name: string;
  readonly id: number;
  readonly mode: string;
  config: ModuleConfig | null;
  state: ModuleStateView | null;
  log: ModuleLog | null;
  resources: ResourceStore | null;
  /** The running automaton of a configured mirror module on a configured cluster. */
  engine: ModuleEngine | null;
};

/** What drives a configured module's states (the mirror runtime; farm and light modules come later). */
export type EngineMetrics = {
  heartbeats?: { sent: number; received: number; accepted: number; dropped: Record<string, number> };
  /** last round trip of each heartbeat link, ms */
  heartbeatRttMs?: Record<string, number>;
  /** the primary's replication counters (cumulative for its current replication process) */
  replication?: {
    bytesSent: number;
    reiBytes: number;
    opsSent: number;
    opsAcked: number;
    backlogOps: number;
  };
  membership?: {
    sent: number;
    received: number;
    accepted: number;
    dropped: Readonly<Record<string, number>>;
  };
  scripts: ReadonlyMap<string, { runs: number; failures: number; timeouts: number; lastDurationMs: number }>;
};

export type ModuleEngine = {
  start(atBoot?: boolean): Promise<void>;
  setSwitch(name: string, value: string): void;
  loop(op: "incloop" | "resetloop" | "checkloop", handler?: string): number;
  metrics(): EngineMetrics;
  close(): Promise<void>;
  view(): ModuleStateView;
  command(
    verb: string,
    by: string,
    opts: { identity?: string; fullsync?: boolean; nosync?: boolean; date?: number },
  ): Promise<{ ok: boolean; error?: string }>;
};

export type EngineFactory = (
  rt: ModuleRuntime,
  onStateChange: (view: ModuleStateView) => void,
) => ModuleEngine | null;

const LASTCONFIG_KEEP = 3;
const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

export class ModuleManager {
  readonly modules = new Map<string, ModuleRuntime>();
  /** Install, uninstall, config and deconfig touch the same folders: one at a time. */
  readonly #changes = new SerialQueue();

  constructor(
    private readonly paths: NodePaths,
    private readonly registry: ModuleRegistry,
    private readonly commandLog: CommandLog,
    private readonly env: () => Record<string, string>,
    private readonly cluster: () => ClusterConfig | null,
    private readonly onChange: () => void,
    private readonly engineFactory: EngineFactory = () => null,
  ) {}

  /** Starts the engine of a configured module; a failure is logged in the module log and leaves it STOP. */
  async startEngine(rt: ModuleRuntime, atBoot = false): Promise<void> {
    if (rt.engine || !rt.state || !rt.config) return;
    let engine: ModuleEngine | null = null;
    try {
      engine = this.engineFactory(rt, (view) => {
        rt.state = view;
        this.onChange();
      });
      if (!engine) return;
      await engine.start(atBoot);
      rt.engine = engine;
    } catch (e) {
      await engine?.close().catch(() => {});
      this.appendLog(rt, "heart", "E", `Module cannot run: ${(e as Error).message}`);
    }
  }

  async stopEngine(rt: ModuleRuntime): Promise<void> {
    const engine = rt.engine;
    rt.engine = null;
    await engine?.close();
    if (rt.state) rt.state = STOPPED;
  }

  /** After a cluster change: engines of stopped modules restart with the new addresses and key. */
  async restartStoppedEngines(atBoot = false): Promise<void> {
    for (const rt of this.list()) {
      if (rt.state && rt.state.local !== "STOP") continue;
      await this.stopEngine(rt);
      await this.startEngine(rt, atBoot);
    }
    this.onChange();
  }

  async stopAllEngines(): Promise<void> {
    for (const rt of this.list()) await this.stopEngine(rt);
  }

  /** Opens every installed module; a module whose active configuration no longer parses stays listed. */
  async load(): Promise<string[]> {
    const problems: string[] = [];
    for (const m of this.registry.list()) {
      const rt: ModuleRuntime = {
        name: m.name,
        id: m.id,
        mode: m.mode,
        config: null,
        state: null,
        log: null,
        resources: null,
        engine: null,
      };
      this.modules.set(m.name, rt);
      if (m.configuredAt === undefined) continue;
      try {
        const xml = await Deno.readTextFile(
          join(this.paths.privateModuleDir(m.name), "conf", "userconfig.xml"),
        );
        rt.config = parseUserConfig(xml, "userconfig.xml", this.env());
      } catch (e) {
        problems.push(`module ${m.name}: active configuration not loaded: ${(e as Error).message}`);
      }
      await this.#openStores(rt);
      rt.state = STOPPED;
    }
    return problems;
  }

  get(name: string): ModuleRuntime {
    const rt = this.modules.get(name);
    if (!rt) throw notFound(`module '${name}' is not installed (see 'safekit module list')`);
    return rt;
  }

  list(): ModuleRuntime[] {
    return [...this.modules.values()].sort((a, b) => a.id - b.id);
  }

  #parse(xml: string, file: string): ModuleConfig {
    const cfg = parseUserConfig(xml, file, this.env());
    // Failover rules are checked here, so a typo or a Lua section is refused at config, with its position.
    buildRuleSet(cfg, { file });
    const cluster = this.cluster();
    if (cluster) validateModuleAgainstCluster(cfg, cluster);
    else if (cfg.mode !== "light") {
      throw new NodeError(
        `module mode '${cfg.mode}' needs the cluster configuration (run 'safekit cluster config' first)`,
      );
    }
    return cfg;
  }

  install(
    name: string,
    body: Uint8Array,
    opts: { id?: number; reinstall: boolean },
  ): Promise<{ installed: InstalledModule; source: string }> {
    return this.#changes.run(() => this.#install(name, body, opts));
  }

  async #install(
    name: string,
    body: Uint8Array,
    opts: { id?: number; reinstall: boolean },
  ): Promise<{ installed: InstalledModule; source: string }> {
    if (!NAME_RE.test(name)) {
      throw new NodeError(
        `invalid module name '${name}' (letters, digits, '_', '-', '.', at most 64 characters)`,
      );
    }
    let source = "uploaded file";
    if (body.length === 0) {
      const found = await this.#findTemplate(name);
      if (!found) {
        throw notFound(
          `no '${name}.safe' under ${this.paths.applicationModules} (give the .safe file to install)`,
        );
      }
      body = await Deno.readFile(found);
      source = found;
    }
    const existing = this.modules.get(name);
    if (existing && !opts.reinstall) {
      throw conflict(`module '${name}' is already installed (use -r to reinstall it)`);
    }
    if (existing && existing.state && existing.state.local !== "STOP") {
      throw conflict(`module '${name}' is ${existing.state.local}: stop it before reinstalling`);
    }
    let mode = "";
    const archive = await readSafeArchive(body, {
      validateUserconfig: (xml: string) => {
        const cfg = parseUserConfig(xml, "conf/userconfig.xml", this.env());
        // Checked against cluster.xml when there is one; `config` checks again (and requires it).
        const cluster = this.cluster();
        if (cluster) validateModuleAgainstCluster(cfg, cluster);
        mode = cfg.mode;
      },
    });
    const id = opts.id ?? existing?.id ?? this.registry.nextFreeId();
    if (!Number.isInteger(id) || id < 1 || id > 1000) {
      throw new NodeError(`invalid module id '${opts.id}' (expected an integer from 1 to 1000)`);
    }
    const owner = this.registry.getById(id);
    if (owner && owner.name !== name) {
      throw conflict(`module id ${id} is already used by module '${owner.name}'`);
    }
    await Deno.mkdir(this.paths.modules, { recursive: true });
    await installModuleTree(archive, this.paths.moduleDir(name), { reinstall: opts.reinstall && !!existing });
    const now = Date.now();
    if (existing) {
      await this.stopEngine(existing);
      this.registry.uninstall(name, { at: now });
      this.#closeStores(existing);
      this.modules.delete(name);
    }
    const installed = this.registry.install({ name, id, mode: mode as InstalledModule["mode"], at: now });
    this.modules.set(name, {
      name,
      id,
      mode,
      config: null,
      state: null,
      log: null,
      resources: null,
      engine: null,
    });
    this.commandLog.info({
      at: now,
      action: "safekit",
      module: name,
      message: `module installed with id ${id}`,
    });
    this.onChange();
    return { installed, source };
  }

  async #findTemplate(name: string): Promise<string | null> {
    const walk = async (dir: string): Promise<string | null> => {
      let entries: Deno.DirEntry[];
      try {
        entries = [];
        for await (const e of Deno.readDir(dir)) entries.push(e);
      } catch {
        return null;
      }
      entries.sort((a, b) => a.name.localeCompare(b.name));
      for (const e of entries) if (e.isFile && e.name === `${name}.safe`) return join(dir, e.name);
      for (const e of entries) {
        if (e.isDirectory) {
          const f = await walk(join(dir, e.name));
          if (f) return f;
        }
      }
      return null;
    };
    return await walk(this.paths.applicationModules);
  }

  #requireStopped(rt: ModuleRuntime, verb: string) {
    if (rt.state && rt.state.local !== "STOP") {
      throw conflict(
        `cannot '${verb}' module '${rt.name}': it is ${rt.state.local} (run 'safekit stop -m ${rt.name}' first)`,
      );
    }
  }

  uninstall(name: string): Promise<void> {
    return this.#changes.run(() => this.#uninstall(name));
  }

  async #uninstall(name: string): Promise<void> {
    const rt = this.get(name);
    this.#requireStopped(rt, "uninstall");
    // Archived first, as SafeKit does: an uninstall can be undone with `module install`.
    const backup = join(this.paths.applicationModules, "backup");
    await Deno.mkdir(backup, { recursive: true });
    try {
      await atomicWriteFile(join(backup, `${name}.safe`), await packageModuleDir(this.paths.moduleDir(name)));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    await this.stopEngine(rt);
    this.#closeStores(rt);
    await Deno.remove(this.paths.privateModuleDir(name), { recursive: true }).catch(() => {});
    await Deno.remove(this.paths.moduleDir(name), { recursive: true }).catch(() => {});
    await Deno.remove(this.paths.moduleVar(name), { recursive: true }).catch(() => {});
    this.registry.uninstall(name, { at: Date.now() });
    this.modules.delete(name);
    this.onChange();
  }

  /** `safekit confcheck -m AM`: validates SAFE/modules/AM without applying it. */
  async confcheck(name: string): Promise<ModuleConfig> {
    this.get(name);
    const xml = await this.#readCurrent(name);
    return this.#parse(xml, join(this.paths.moduleDir(name), "conf", "userconfig.xml"));
  }

  async #readCurrent(name: string): Promise<string> {
    const f = join(this.paths.moduleDir(name), "conf", "userconfig.xml");
    const xml = await readTextIfExists(f);
    if (xml === null) throw notFound(`${f} is missing`);
    return xml;
  }

  /** `safekit config -m AM`: SAFE/modules/AM becomes the active configuration (module stopped). */
  config(name: string): Promise<InstalledModule> {
    return this.#changes.run(() => this.#config(name));
  }

  async #config(name: string): Promise<InstalledModule> {
    const rt = this.get(name);
    this.#requireStopped(rt, "config");
    const xml = await this.#readCurrent(name);
    const cfg = this.#parse(xml, join(this.paths.moduleDir(name), "conf", "userconfig.xml"));
    if (cfg.mode !== rt.mode) {
      throw new NodeError(
        `module '${name}' was installed as ${rt.mode}; its userconfig.xml now says ${cfg.mode} (reinstall it)`,
      );
    }
    const zip = await packageModuleDir(this.paths.moduleDir(name));
    const archive = await readSafeArchive(zip, {});
    await Deno.mkdir(this.paths.privateModules, { recursive: true });
    await installModuleTree(archive, this.paths.privateModuleDir(name), { reinstall: true });
    await this.#saveLastConfig(name, zip);
    const signature = await configSignature(xml);
    const installed = this.registry.configure(name, { at: Date.now(), signature });
    await this.stopEngine(rt);
    rt.config = cfg;
    if (!rt.log) await this.#openStores(rt);
    rt.state = STOPPED;
    await this.startEngine(rt);
    this.appendLog(rt, "safeadmin", "I", `Module configured (signature ${signature.slice(0, 12)})`);
    this.onChange();
    return installed;
  }

  async #saveLastConfig(name: string, zip: Uint8Array): Promise<void> {
    await Deno.mkdir(this.paths.lastconfig, { recursive: true });
    const d = new Date();
    const p = (n: number) => String(n).padStart(2, "0");
    const stamp = `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}_${p(d.getHours())}${
      p(d.getMinutes())
    }${p(d.getSeconds())}${String(d.getMilliseconds()).padStart(3, "0")}`;
    await atomicWriteFile(join(this.paths.lastconfig, `${name}_${stamp}.safe`), zip);
    const mine: string[] = [];
    for await (const e of Deno.readDir(this.paths.lastconfig)) {
      if (e.isFile && e.name.startsWith(`${name}_`) && e.name.endsWith(".safe")) mine.push(e.name);
    }
    mine.sort();
    for (const old of mine.slice(0, Math.max(0, mine.length - LASTCONFIG_KEEP))) {
      await Deno.remove(join(this.paths.lastconfig, old)).catch(() => {});
    }
  }

  deconfig(name: string): Promise<void> {
    return this.#changes.run(() => this.#deconfig(name));
  }

  async #deconfig(name: string): Promise<void> {
    const rt = this.get(name);
    this.#requireStopped(rt, "deconfig");
    if (!rt.state) throw conflict(`module '${name}' is not configured`);
    await this.stopEngine(rt);
    await Deno.remove(this.paths.privateModuleDir(name), { recursive: true }).catch(() => {});
    this.registry.deconfigure(name, { at: Date.now() });
    this.appendLog(rt, "safeadmin", "I", "Module deconfigured");
    rt.config = null;
    rt.state = null;
    this.onChange();
  }

  async confinfo(name: string) {
    this.get(name);
    const side = async (dir: string) => {
      const f = join(dir, "conf", "userconfig.xml");
      const xml = await readTextIfExists(f);
      if (xml === null) return null;
      return { signature: await configSignature(xml), mtime: (await Deno.stat(f)).mtime?.getTime() ?? 0 };
    };
    return {
      active: await side(this.paths.privateModuleDir(name)),
      current: await side(this.paths.moduleDir(name)),
    };
  }

  async package(name: string): Promise<Uint8Array> {
    this.get(name);
    return await packageModuleDir(this.paths.moduleDir(name));
  }

  async #openStores(rt: ModuleRuntime): Promise<void> {
    const dir = this.paths.moduleVar(rt.name);
    await Deno.mkdir(dir, { recursive: true });
    rt.log ??= new ModuleLog(join(dir, "log.db"));
    rt.resources ??= new ResourceStore(join(dir, "resource.db"));
  }

  #closeStores(rt: ModuleRuntime): void {
    rt.log?.close();
    rt.resources?.close();
    rt.log = null;
    rt.resources = null;
  }

  appendLog(rt: ModuleRuntime, component: string, level: LogLevel, message: string): void {
    rt.log?.append({ at: Date.now(), component, level, message });
  }

  requireStores(name: string): { rt: ModuleRuntime; log: ModuleLog; resources: ResourceStore } {
    const rt = this.get(name);
    if (!rt.log || !rt.resources) {
      throw conflict(`module '${name}' is not configured (run 'safekit config -m ${name}')`);
    }
    return { rt, log: rt.log, resources: rt.resources };
  }

  /** Runs a control command (start, stop, prim, swap...) on a module's engine. */
  async command(
    name: string,
    verb: string,
    by: string,
    opts: { identity?: string; fullsync?: boolean; nosync?: boolean; date?: number },
  ): Promise<void> {
    const rt = this.get(name);
    if (!rt.state) throw conflict(`module '${name}' is not configured (run 'safekit config -m ${name}')`);
    if (!rt.engine) {
      throw conflict(
        `module '${name}' cannot run: see 'safekit log -m ${name}' (it needs the cluster configuration and key)`,
      );
    }
    const r = await rt.engine.command(verb, by, opts);
    if (!r.ok) throw conflict(r.error ?? `'${verb}' refused`);
  }

  /**
   * `safekit checker|errd|failover|boot on|off` and `errd enable|disable CLASS`: persisted as usersetting.* (so
   * they hold across restarts and reboots, spec §3.6) and applied at once when the module runs.
   */
  setSwitch(
    name: string,
    switchName: "checker" | "errd" | "errdclass" | "failover" | "boot",
    value: string,
    cls?: string,
  ): void {
    const { rt, resources } = this.requireStores(name);
    if (switchName === "errdclass") {
      if (!rt.engine) {
        throw conflict(`module '${name}' is not running: errd classes apply to a running module`);
      }
      rt.engine.setSwitch(`errdclass:${cls}`, value);
      return;
    }
    resources.set(`usersetting.${switchName}`, value, { at: Date.now(), by: "root" });
    rt.engine?.setSwitch(switchName, value);
  }

  loop(name: string, op: "incloop" | "resetloop" | "checkloop", handler?: string): number {
    const rt = this.get(name);
    if (!rt.engine) throw conflict(`module '${name}' is not running`);
    return rt.engine.loop(op, handler);
  }

  close(): void {
    for (const rt of this.modules.values()) this.#closeStores(rt);
  }
}
