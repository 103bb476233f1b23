// The REST API of the node service (under /api/v1): everything the CLI does, as a table of routes.
import { commandLan, nodeNames } from "../config/mod.ts";
import { type ApiClient, decodeResponse, encodeBody } from "../cli/daemon_client.ts";
import { VERSION } from "../cli/version.ts";
import { formatCommandLogLine, formatLogLine, type LogLevel } from "../store/mod.ts";
import type { ApiRequest, Route } from "../web/route_table.ts";
import { callerLabel } from "../web/route_table.ts";
import { modulePorts } from "./module_ports.ts";
import { nodeMetrics } from "./metrics.ts";
import { NodeError, notFound } from "./node_error.ts";
import type { NodeService } from "./node_service.ts";
import { WEB_PORT } from "./node_service.ts";

function intParam(req: ApiRequest, name: string, dflt: number, max: number): number {
  const v = req.query[name];
  if (v === undefined || v === "") return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw new NodeError(`query parameter '${name}' must be an integer 0..${max}`);
  }
  return n;
}

function moduleSummary(s: NodeService, name: string) {
  const rt = s.modules.get(name);
  return { name: rt.name, id: rt.id, mode: rt.mode, configured: rt.state !== null, state: rt.state };
}

export function apiRoutes(s: NodeService): Route[] {
  return [
    {
      method: "get",
      path: "/node",
      summary: "Node identity, version and roots (safekit level, -p)",
      mutates: false,
      handler: () => ({
        json: {
          node: s.cluster.active?.localNode ?? null,
          host: Deno.hostname(),
          os: `${Deno.build.os} ${Deno.osRelease()} ${Deno.build.arch}`,
          version: VERSION,
          license: "Open source (no license key needed)",
          safe: s.paths.safe,
          safevar: s.paths.safevar,
          pid: Deno.pid,
          startedAt: s.startedAt,
          networkProblems: s.networkProblems,
        },
      }),
    },
    {
      method: "get",
      path: "/modules",
      summary: "Installed modules with their state (safekit state, module list)",
      mutates: false,
      handler: () => ({ json: s.modules.list().map((m) => moduleSummary(s, m.name)) }),
    },
    {
      method: "post",
      path: "/modules",
      summary: "Install a module from a .safe archive (empty body: search Application_Modules)",
      mutates: true,
      requestBody: "binary",
      query: ["name", "id", "reinstall"],
      handler: async (req) => {
        const name = req.query.name ?? "";
        const id = req.query.id !== undefined ? Number(req.query.id) : undefined;
        if (id !== undefined && !Number.isInteger(id)) {
          throw new NodeError(`invalid module id '${req.query.id}'`);
        }
        const out = await s.modules.install(name, req.body, { id, reinstall: req.query.reinstall === "1" });
        return { json: { name: out.installed.name, id: out.installed.id, source: out.source } };
      },
    },
    {
      method: "get",
      path: "/modules/{module}",
      summary: "One module's state (with ?resources=1: every resource, as state -v)",
      mutates: false,
      query: ["resources"],
      handler: (req) => {
        const sum = moduleSummary(s, req.params.module);
        const rt = s.modules.get(req.params.module);
        const resources = req.query.resources === "1" ? rt.resources?.list() ?? [] : undefined;
        return { json: { ...sum, resources } };
      },
    },
    {
      method: "delete",
      path: "/modules/{module}",
      summary: "Uninstall a module (archived in Application_Modules/backup)",
      mutates: true,
      handler: async (req) => {
        await s.modules.uninstall(req.params.module);
        return { json: { ok: true } };
      },
    },
    {
      method: "get",
      path: "/modules/{module}/package",
      summary: "The module's tree as a .safe archive (module package)",
      mutates: false,
      handler: async (req) => ({
        bytes: await s.modules.package(req.params.module),
        contentType: "application/zip",
        filename: `${req.params.module}.safe`,
      }),
    },
    {
      method: "post",
      path: "/modules/{module}/config",
      summary: "Apply SAFE/modules/AM as the active configuration (safekit config)",
      mutates: true,
      handler: async (req) => {
        const m = await s.modules.config(req.params.module);
        return {
          json: {
            name: m.name,
            signature: m.signature,
            configuredAt: m.configuredAt,
            warnings: configWarnings(s, req.params.module),
          },
        };
      },
    },
    {
      method: "post",
      path: "/modules/{module}/deconfig",
      summary: "Remove the active configuration (safekit deconfig)",
      mutates: true,
      handler: async (req) => {
        await s.modules.deconfig(req.params.module);
        return { json: { ok: true } };
      },
    },
    {
      method: "post",
      path: "/modules/{module}/confcheck",
      summary: "Validate SAFE/modules/AM without applying it (safekit confcheck)",
      mutates: false,
      handler: async (req) => {
        const cfg = await s.modules.confcheck(req.params.module);
        return { json: { ok: true, mode: cfg.mode, warnings: cfg.warnings } };
      },
    },
    {
      method: "get",
      path: "/modules/{module}/confinfo",
      summary: "Signatures and dates of the active and current configurations",
      mutates: false,
      handler: async (req) => ({ json: await s.modules.confinfo(req.params.module) }),
    },
    {
      method: "get",
      path: "/modules/{module}/log",
      summary: "Module log, newest last (verbose=1 for all levels)",
      mutates: false,
      query: ["verbose", "last", "sinceId", "search"],
      handler: (req) => {
        const { log } = s.modules.requireStores(req.params.module);
        const rows = log.query({
          verbose: req.query.verbose === "1",
          last: intParam(req, "last", 300, 1_000_000) || 300,
          sinceId: req.query.sinceId !== undefined
            ? intParam(req, "sinceId", 0, Number.MAX_SAFE_INTEGER)
            : undefined,
          search: req.query.search,
        });
        return { json: rows.map((r) => ({ ...r, line: formatLogLine(r) })) };
      },
    },
    {
      method: "post",
      path: "/modules/{module}/log",
      summary: "Write a message in the module log (printi: I, printe: E)",
      mutates: true,
      requiredRole: "Control",
      requestBody: "json",
      handler: (req) => {
        const body = req.json<{ level?: string; message?: string }>();
        if (body.level !== "I" && body.level !== "E") throw new NodeError("level must be 'I' or 'E'");
        if (typeof body.message !== "string" || body.message.length === 0) {
          throw new NodeError("message is empty");
        }
        const { rt } = s.modules.requireStores(req.params.module);
        s.modules.appendLog(rt, "userplug", body.level as LogLevel, body.message);
        return { json: { ok: true } };
      },
    },
    {
      method: "get",
      path: "/modules/{module}/resources",
      summary: "Current values of the module's resources",
      mutates: false,
      handler: (req) => ({ json: s.modules.requireStores(req.params.module).resources.list() }),
    },
    {
      method: "get",
      path: "/modules/{module}/resources/{resource}",
      summary: "One resource (safekit get -r), with ?history=N its last N assignments",
      mutates: false,
      query: ["history"],
      handler: (req) => {
        const { resources } = s.modules.requireStores(req.params.module);
        const r = resources.get(req.params.resource);
        if (!r) {
          throw notFound(`resource '${req.params.resource}' is not set in module '${req.params.module}'`);
        }
        const n = intParam(req, "history", 0, 10_000);
        return { json: n ? { ...r, history: resources.history(req.params.resource, n) } : r };
      },
    },
    {
      method: "put",
      path: "/modules/{module}/resources/{resource}",
      summary: "Assign a resource (safekit set -r -v [-n] [-l] [-i])",
      mutates: true,
      requiredRole: "Control",
      requestBody: "json",
      handler: (req) => {
        const b = req.json<{ value?: unknown; noLog?: boolean; forceLog?: boolean; identity?: string }>();
        if (typeof b.value !== "string" || b.value.length === 0 || b.value.length > 256) {
          throw new NodeError("value must be a non-empty string of at most 256 characters");
        }
        const { rt, resources } = s.modules.requireStores(req.params.module);
        const by = b.identity || callerLabel(req.caller);
        const { changed } = resources.set(req.params.resource, b.value, { at: Date.now(), by });
        if (!b.noLog && (changed || b.forceLog)) {
          s.modules.appendLog(
            rt,
            by,
            b.value === "down" ? "C" : "I",
            `Resource ${req.params.resource} set to ${b.value} by ${by}`,
          );
        }
        return { json: { changed } };
      },
    },
    {
      method: "post",
      path: "/modules/{module}/commands/{verb}",
      summary:
        "Module control: start, stop, restart, stopstart, swap, prim, second, primforce, secondforce, " +
        "forcestop; body {identity?, fullsync?, nosync?, date?}",
      mutates: true,
      requiredRole: "Control",
      requestBody: "json",
      handler: async (req) => {
        const verb = req.params.verb;
        if (!CONTROL_VERBS.has(verb)) {
          throw new NodeError(`unknown module command '${verb}' (expected ${[...CONTROL_VERBS].join(", ")})`);
        }
        const b = req.body.length ? req.json<CommandBody>() : {};
        await s.modules.command(req.params.module, verb, byOf(req), checkCommandBody(b));
        return { json: { ok: true, state: moduleSummary(s, req.params.module).state } };
      },
    },
    {
      method: "post",
      path: "/modules/{module}/switches/{name}",
      summary: "Maintenance switches: checker, errd, failover, boot on|off; errdclass (body {value, class})",
      mutates: true,
      requiredRole: "Control",
      requestBody: "json",
      handler: (req) => {
        const name = req.params.name;
        if (!["checker", "errd", "errdclass", "failover", "boot"].includes(name)) {
          throw new NodeError(
            `unknown switch '${name}' (expected checker, errd, errdclass, failover or boot)`,
          );
        }
        const b = req.json<{ value?: unknown; class?: unknown }>();
        if (b.value !== "on" && b.value !== "off") throw new NodeError("value must be 'on' or 'off'");
        if (name === "errdclass" && (typeof b.class !== "string" || !/^[\w.-]{1,64}$/.test(b.class))) {
          throw new NodeError("class must be an errd class name (letters, digits, '_', '-', '.')");
        }
        s.modules.setSwitch(
          req.params.module,
          name as "checker" | "errd" | "errdclass" | "failover" | "boot",
          b.value,
          b.class as string | undefined,
        );
        return { json: { ok: true } };
      },
    },
    {
      method: "post",
      path: "/modules/{module}/loop/{op}",
      summary: "maxloop counter: incloop (body {handler}), resetloop, checkloop; returns the exit code",
      mutates: true,
      requiredRole: "Control",
      requestBody: "json",
      handler: (req) => {
        const op = req.params.op;
        if (op !== "incloop" && op !== "resetloop" && op !== "checkloop") {
          throw new NodeError(`unknown loop operation '${op}' (expected incloop, resetloop or checkloop)`);
        }
        const b = req.body.length ? req.json<{ handler?: unknown }>() : {};
        if (b.handler !== undefined && (typeof b.handler !== "string" || b.handler.length > 64)) {
          throw new NodeError("handler must be a name of at most 64 characters");
        }
        return { json: { code: s.modules.loop(req.params.module, op, b.handler as string | undefined) } };
      },
    },
    {
      method: "post",
      path: "/shutdown",
      summary: "Stop every module of this node (safekit shutdown)",
      mutates: true,
      requiredRole: "Control",
      handler: async (req) => {
        const errors: string[] = [];
        for (const m of s.modules.list()) {
          if (!m.engine || !m.state || m.state.local === "STOP") continue;
          try {
            await s.modules.command(m.name, "shutdown", byOf(req), {});
          } catch (e) {
            errors.push(`${m.name}: ${(e as Error).message}`);
          }
        }
        if (errors.length) throw new NodeError(errors.join("; "), 409);
        return { json: { ok: true } };
      },
    },
    {
      method: "post",
      path: "/webserver/restart",
      summary:
        "Re-read the web service's certificates: HTTPS when SAFE/web/conf/server.crt exists, else HTTP",
      mutates: true,
      handler: async () => {
        s.forceWebRebind();
        const warnings = await s.applyNetwork();
        return { json: { mode: s.webMode, warnings } };
      },
    },
    {
      method: "get",
      path: "/metrics",
      absolutePath: "/metrics",
      summary: "Prometheus metrics (text format 0.0.4): states, resources, membership, heartbeats, scripts",
      mutates: false,
      handler: () => ({ text: nodeMetrics(s), contentType: "text/plain; version=0.0.4; charset=utf-8" }),
    },
    {
      method: "get",
      path: "/ports",
      summary: "Ports of a module, by ?module= or ?id= (module getports)",
      mutates: false,
      query: ["module", "id"],
      handler: (req) => {
        let rt;
        if (req.query.id !== undefined) {
          rt = s.modules.list().find((m) => String(m.id) === req.query.id);
          if (!rt) throw notFound(`no module with id '${req.query.id}'`);
        } else rt = s.modules.get(req.query.module ?? "");
        const clusterPort = s.cluster.active?.config.port ?? 4800;
        return {
          json: {
            module: rt.name,
            id: rt.id,
            ports: modulePorts(rt.id, rt.mode, rt.config, clusterPort, WEB_PORT),
          },
        };
      },
    },
    {
      method: "get",
      path: "/cmdlog",
      summary: "The command log (safekit cmdlog)",
      mutates: false,
      query: ["last"],
      handler: (req) => ({
        json: s.commandLog.list({ last: intParam(req, "last", 300, 1_000_000) || 300 }).map((r) => ({
          ...r,
          line: formatCommandLogLine(r),
        })),
      }),
    },
    {
      method: "post",
      path: "/cluster/confcheck",
      summary: "Validate a cluster.xml without applying it",
      mutates: false,
      requestBody: "text",
      handler: (req) => {
        const { config } = s.cluster.check(req.text());
        return { json: { nodes: nodeNames(config), warnings: config.warnings } };
      },
    },
    {
      method: "put",
      path: "/cluster/config",
      summary: "Apply a cluster.xml or a cluster bundle zip (empty body: new key); ?lock=lock|unlock",
      mutates: true,
      requestBody: "binary",
      query: ["lock"],
      handler: async (req) => {
        const lock = req.query.lock;
        if (lock !== undefined && lock !== "lock" && lock !== "unlock") {
          throw new NodeError("lock must be 'lock' or 'unlock'");
        }
        const a = await s.cluster.apply(req.body, lock as "lock" | "unlock" | undefined);
        const warnings = await s.applyNetwork();
        return { json: { node: a.localNode, signature: a.meta.signature, warnings } };
      },
    },
    {
      method: "put",
      path: "/cluster/import",
      summary: "Receive the cluster bundle from another node (safekit -H ... -G)",
      mutates: true,
      requestBody: "binary",
      handler: async (req) => {
        if (req.caller.kind !== "peer") {
          throw new NodeError("only another cluster node may push its configuration", 403);
        }
        const a = await s.cluster.apply(req.body, undefined, true);
        const warnings = await s.applyNetwork();
        return { json: { node: a.localNode, signature: a.meta.signature, warnings } };
      },
    },
    {
      method: "delete",
      path: "/cluster/config",
      summary: "Remove the cluster configuration and key (cluster deconfig)",
      mutates: true,
      handler: async () => {
        await s.cluster.deconfig();
        await s.applyNetwork();
        return { json: { ok: true } };
      },
    },
    {
      method: "post",
      path: "/cluster/key",
      summary: "Create a new cluster key (cluster genkey)",
      mutates: true,
      handler: async () => {
        await s.cluster.genkey();
        await s.applyNetwork();
        return { json: { ok: true } };
      },
    },
    {
      method: "delete",
      path: "/cluster/key",
      summary: "Delete the cluster key (cluster delkey)",
      mutates: true,
      handler: async () => {
        await s.cluster.delkey();
        await s.applyNetwork();
        return { json: { ok: true } };
      },
    },
    {
      method: "get",
      path: "/cluster/export",
      summary: "The cluster bundle (cluster.xml + key) as a zip; local callers and cluster nodes only",
      mutates: false,
      handler: async (req) => {
        if (req.caller.kind === "anonymous") {
          throw new NodeError("the cluster bundle holds the cluster key", 403);
        }
        return {
          bytes: await s.cluster.exportBundle(),
          contentType: "application/zip",
          filename: "cluster.zip",
        };
      },
    },
    {
      method: "get",
      path: "/cluster/confinfo/local",
      summary: "This node's cluster configuration signature, date and lock",
      mutates: false,
      handler: () => ({ json: localConfInfo(s) }),
    },
    {
      method: "get",
      path: "/cluster/confinfo",
      summary: "Cluster configuration signature, date and lock on every node",
      mutates: false,
      handler: async () => ({
        json: await fanOut(s, "/api/v1/cluster/confinfo/local", () => [localConfInfo(s)]),
      }),
    },
    {
      method: "get",
      path: "/cluster/state/local",
      summary: "This node's modules: mode, id, configuration date and signature",
      mutates: false,
      handler: () => ({ json: localModuleRows(s) }),
    },
    {
      method: "get",
      path: "/cluster/state",
      summary: "Every node's modules (cluster state)",
      mutates: false,
      handler: async () => ({
        json: await fanOut(s, "/api/v1/cluster/state/local", () => localModuleRows(s)),
      }),
    },
    {
      method: "get",
      path: "/cluster/membership",
      summary: "Which nodes are up, as the membership protocol sees them, and its packet counters",
      mutates: false,
      handler: () => ({ json: { nodes: s.membershipView(), counters: s.membershipCounters() } }),
    },
    {
      method: "get",
      path: "/cluster/targets",
      summary: "Resolve a -H host list into node URLs",
      mutates: false,
      query: ["hosts"],
      handler: (req) => ({ json: resolveTargets(s, req.query.hosts ?? "") }),
    },
    {
      method: "post",
      path: "/cli",
      summary: "Run a safekit command on this node (distributed commands, -H)",
      mutates: true,
      requestBody: "json",
      handler: async (req) => {
        const b = req.json<{ args?: unknown }>();
        if (!Array.isArray(b.args) || !b.args.every((a) => typeof a === "string") || b.args.length > 64) {
          throw new NodeError("args must be an array of at most 64 strings");
        }
        const { runCliCaptured } = await import("../cli/mod.ts");
        const client = inProcessClient(s, callerLabel(req.caller), (b.args as string[]).join(" "));
        return { json: await runCliCaptured(b.args as string[], client, s.paths) };
      },
    },
  ];
}

/** What an administrator must know right after `config`: obsolete forms, and features not available yet. */
function configWarnings(s: NodeService, module: string): string[] {
  const rt = s.modules.get(module);
  const w = [...(rt.config?.warnings ?? [])];
  if (rt.config?.rfs && Deno.uid?.() !== 0) {
    w.push(
      "<rfs>: replication mounts the directories with FUSE and needs root; this node service does not run as root",
    );
  }
  if (rt.config?.vip && Deno.uid?.() !== 0) {
    w.push(
      "<vip>: virtual IPs and the load-balancing filter need root; this node service does not run as root",
    );
  }
  return w;
}

const CONTROL_VERBS = new Set([
  "start",
  "stop",
  "restart",
  "stopstart",
  "swap",
  "prim",
  "second",
  "primforce",
  "secondforce",
  "forcestop",
]);

type CommandBody = { identity?: unknown; fullsync?: unknown; nosync?: unknown; date?: unknown };

function checkCommandBody(b: CommandBody) {
  if (b.identity !== undefined && (typeof b.identity !== "string" || !/^[\w.@:-]{1,64}$/.test(b.identity))) {
    throw new NodeError("identity must be 1 to 64 letters, digits or . _ @ : -");
  }
  for (const f of ["fullsync", "nosync"] as const) {
    if (b[f] !== undefined && typeof b[f] !== "boolean") throw new NodeError(`${f} must be true or false`);
  }
  if (b.date !== undefined && (typeof b.date !== "number" || !Number.isFinite(b.date))) {
    throw new NodeError("date must be a time in epoch milliseconds");
  }
  return {
    identity: b.identity as string | undefined,
    fullsync: b.fullsync as boolean | undefined,
    nosync: b.nosync as boolean | undefined,
    date: b.date as number | undefined,
  };
}

/** How an action's caller is logged: `root` locally, `admin@<addr>`-style for remote callers. */
function byOf(req: ApiRequest): string {
  return req.caller.kind === "local" ? req.caller.user : callerLabel(req.caller);
}

function localConfInfo(s: NodeService) {
  const a = s.cluster.active;
  if (!a) throw notFound("this node has no cluster configuration");
  return { node: a.localNode, signature: a.meta.signature, date: a.meta.date, lock: a.meta.lock };
}

function localModuleRows(s: NodeService) {
  const node = s.cluster.active?.localNode ?? Deno.hostname();
  return s.modules.list().map((m) => {
    const reg = s.registry.get(m.name);
    return {
      node,
      module: m.name,
      mode: m.mode,
      id: m.id,
      date: reg?.configuredAt ? new Date(reg.configuredAt).toISOString() : "",
      signature: reg?.signature ?? "",
    };
  });
}

/** Asks every node of the cluster for the same local view, in node order; unreachable nodes say so. */
async function fanOut<T>(
  s: NodeService,
  path: string,
  local: () => T[],
): Promise<(T | { node: string; error: string })[]> {
  const a = s.cluster.active;
  if (!a) return local();
  const { RemoteNodeClient } = await import("../cli/remote_client.ts");
  const rows = await Promise.all(
    nodeNames(a.config).map(async (node) => {
      if (node === a.localNode) return local();
      const url = s.peerUrl(node);
      if (!url || !s.cluster.key) return [{ node, error: "no address or no cluster key" }];
      try {
        const client = new RemoteNodeClient(
          node,
          url,
          s.cluster.key,
          a.localNode,
          "fan-out",
          3000,
          s.peerHttpClient,
        );
        const r = await client.request("GET", path);
        if (r.status !== 200) {
          return [{ node, error: (r.json as { error?: string })?.error ?? `HTTP ${r.status}` }];
        }
        const j = r.json;
        return (Array.isArray(j) ? j : [j]) as T[];
      } catch (e) {
        return [{ node, error: (e as Error).message }];
      }
    }),
  );
  return rows.flat();
}

/** `-H` host lists (spec §3.9): "*", node names, "[proto:port],addr1,addr2", or URLs. */
export function resolveTargets(s: NodeService, hosts: string): { node: string | null; url: string }[] {
  const spec = hosts.trim();
  if (!spec) throw new NodeError("empty host list");
  const a = s.cluster.active;
  if (spec === "*") {
    if (!a) throw new NodeError("'-H \"*\"' needs the cluster configuration (run 'safekit cluster config')");
    commandLan(a.config);
    return nodeNames(a.config).map((n) => ({ node: n, url: s.peerUrl(n)! }));
  }
  let proto = "http";
  let port = WEB_PORT;
  let list = spec;
  const m = /^\[(https?)(?::(\d+))?\],(.*)$/.exec(spec);
  if (m) {
    proto = m[1];
    port = m[2] ? Number(m[2]) : proto === "https" ? 9453 : WEB_PORT;
    list = m[3];
  }
  return list.split(",").map((h) => h.trim()).filter(Boolean).map((h) => {
    if (/^https?:\/\//.test(h)) {
      const u = new URL(h);
      return { node: null, url: `${u.protocol}//${u.host}` };
    }
    if (a && nodeNames(a.config).includes(h) && !m) return { node: h, url: s.peerUrl(h)! };
    if (!/^[A-Za-z0-9.\-:\[\]]+$/.test(h)) throw new NodeError(`invalid host '${h}' in -H list`);
    return { node: null, url: `${proto}://${h}:${port}` };
  });
}

function inProcessClient(s: NodeService, user: string, command: string): ApiClient {
  return {
    label: "local",
    async request(method, path, body) {
      const { payload, contentType } = encodeBody(body);
      const headers: Record<string, string> = { "x-safekit-user": user, "x-safekit-command": command };
      if (contentType) headers["content-type"] = contentType;
      const res = await s.app.fetch(
        new Request(`http://safeadmin${path}`, { method, headers, body: payload as BodyInit | undefined }),
        { transport: { kind: "local" } },
      );
      return await decodeResponse(res);
    },
  };
}
