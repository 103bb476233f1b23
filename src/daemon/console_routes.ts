// The API the browser console needs beyond the CLI's: the whole cluster's module states in one call, and one
// node's log, resources and actions reached through the node the browser is logged in to (sessions live on
// one node only, and the browser cannot call another node's origin). Spec §9.2 names the same idea
// `/nodes/<node>/...`.
//
// Authorisation happens on this node, before forwarding, with the same roles as the local routes (reads:
// Monitor; actions: Control). The forwarded request is signed with the cluster key, so the other node
// trusts this node's check. The other node's module log names this node as the caller ("Action swap called
// by node1@addr"); the user's name is in this node's command log and in the other node's command log entry.
// (The command body's `identity` is not used for the user: it marks commands from checkers, not admins.)
import { join } from "node:path";
import { nodeNames } from "../config/mod.ts";
import type { ApiResponse } from "../cli/daemon_client.ts";
import { atomicWriteFile, readTextIfExists } from "../platform/atomic_write.ts";
import { type ApiRequest, type ApiResult, callerLabel, type Route } from "../web/route_table.ts";
import { eventsRoutes } from "./events_routes.ts";
import { moduleSnapshot } from "./module_snapshot.ts";
import { NodeError, notFound } from "./node_error.ts";
import type { NodeService } from "./node_service.ts";

/** A module as one node sees it, with the detail a console tile shows next to the state (spec §2.1). */
export type ConsoleModuleRow = {
  readonly name: string;
  readonly id: number;
  readonly mode: string;
  readonly configured: boolean;
  readonly state: { local: string; qualifier: string; remote?: string } | null;
  /** Selected resources: rfs.uptodate, the farm load share, usersetting.* switches. */
  readonly resources: Readonly<Record<string, string>>;
};
export type ConsoleNodeRow =
  | { readonly node: string; readonly local: boolean; readonly modules: readonly ConsoleModuleRow[] }
  | { readonly node: string; readonly local: boolean; readonly error: string };

/** How long a tile waits for another node before it shows ERROR (connection error). */
const NODE_TIMEOUT_MS = 3000;

const DETAIL_RESOURCES = /^(rfs\.uptodate|rfs\.degraded|FarmProto_0|usersetting\.(checker|errd|failover))$/;

function localModuleRows(s: NodeService): ConsoleModuleRow[] {
  return s.modules.list().map((m) => {
    const rt = s.modules.get(m.name);
    const resources: Record<string, string> = {};
    for (const r of rt.resources?.list() ?? []) {
      if (DETAIL_RESOURCES.test(r.name)) resources[r.name] = String(r.value);
    }
    return {
      name: rt.name,
      id: rt.id,
      mode: rt.mode,
      configured: rt.state !== null,
      state: rt.state,
      resources,
    };
  });
}

async function remoteRequest(
  s: NodeService,
  node: string,
  method: string,
  path: string,
  body?: object,
  command = "console",
  timeoutMs = NODE_TIMEOUT_MS,
): Promise<ApiResponse> {
  const a = s.cluster.active;
  const url = s.peerUrl(node);
  if (!a || !url || !s.cluster.key) {
    throw new NodeError(`node '${node}' has no address or there is no cluster key`);
  }
  const { RemoteNodeClient } = await import("../cli/remote_client.ts");
  const client = new RemoteNodeClient(
    node,
    url,
    s.cluster.key,
    a.localNode,
    command,
    timeoutMs,
    s.peerHttpClient,
  );
  return await client.request(method, path, body);
}

/** Checks `node` is a node of the cluster; returns whether it is this node. */
function resolveNode(s: NodeService, node: string): boolean {
  const a = s.cluster.active;
  if (!a) {
    if (node === Deno.hostname()) return true;
    throw notFound(`no cluster configuration: only this node can be shown`);
  }
  if (node === a.localNode) return true;
  if (!nodeNames(a.config).includes(node)) throw notFound(`'${node}' is not a node of the cluster`);
  return false;
}

/** Runs the same API call on this node (as the caller) or on `node` (signed): the answer passes through. */
async function onNode(
  s: NodeService,
  req: ApiRequest,
  method: string,
  path: string,
  body?: object,
): Promise<{ json: unknown; status: number }> {
  const local = resolveNode(s, req.params.node);
  let r: ApiResponse;
  if (local) {
    const headers: Record<string, string> = { "x-safekit-user": callerLabel(req.caller) };
    if (body) headers["content-type"] = "application/json";
    const res = await s.app.fetch(
      new Request(`http://safeadmin${path}`, {
        method,
        headers,
        body: body ? JSON.stringify(body) : undefined,
      }),
      { transport: { kind: "local" } },
    );
    r = { status: res.status, json: await res.json(), contentType: "application/json" };
  } else {
    try {
      // The other node logs this node as the caller; its command log gets the user's name.
      r = await remoteRequest(
        s,
        req.params.node,
        method,
        path,
        body,
        `${method} ${path} by ${callerLabel(req.caller)}`,
      );
    } catch (e) {
      return { json: { error: `connection error: ${(e as Error).message}` }, status: 502 };
    }
  }
  return { json: r.json ?? { error: `HTTP ${r.status} without a JSON body` }, status: r.status };
}

/** Every node's modules in node order, as the monitoring page shows them; also the `modules` event's data. */
export async function clusterModuleRows(s: NodeService): Promise<ConsoleNodeRow[]> {
  const a = s.cluster.active;
  const here = (): ConsoleNodeRow => ({
    node: a?.localNode ?? Deno.hostname(),
    local: true,
    modules: localModuleRows(s),
  });
  if (!a) return [here()];
  return await Promise.all(
    nodeNames(a.config).map(async (node): Promise<ConsoleNodeRow> => {
      if (node === a.localNode) return here();
      try {
        const r = await remoteRequest(s, node, "GET", "/api/v1/cluster/modules/local");
        const j = r.json as { modules?: ConsoleModuleRow[]; error?: string } | undefined;
        if (r.status !== 200 || !Array.isArray(j?.modules)) {
          return { node, local: false, error: j?.error ?? `HTTP ${r.status}` };
        }
        return { node, local: false, modules: j.modules };
      } catch (e) {
        return { node, local: false, error: `connection error: ${(e as Error).message}` };
      }
    }),
  );
}

/** As onNode, for an answer that is a file (a snapshot zip): the bytes pass through; errors stay JSON. */
async function bytesOnNode(
  s: NodeService,
  req: ApiRequest,
  path: string,
  filename: string,
): Promise<ApiResult> {
  const local = resolveNode(s, req.params.node);
  let r: ApiResponse;
  if (local) {
    const res = await s.app.fetch(
      new Request(`http://safeadmin${path}`, { headers: { "x-safekit-user": callerLabel(req.caller) } }),
      { transport: { kind: "local" } },
    );
    const { decodeResponse } = await import("../cli/daemon_client.ts");
    r = await decodeResponse(res);
  } else {
    try {
      r = await remoteRequest(
        s,
        req.params.node,
        "GET",
        path,
        undefined,
        `GET ${path} by ${callerLabel(req.caller)}`,
      );
    } catch (e) {
      return { json: { error: `connection error: ${(e as Error).message}` }, status: 502 };
    }
  }
  if (r.status !== 200 || !r.bytes) {
    return { json: r.json ?? { error: `HTTP ${r.status}` }, status: r.status === 200 ? 502 : r.status };
  }
  return { bytes: r.bytes, contentType: r.contentType || "application/octet-stream", filename };
}

/** A module's userconfig.xml in SAFE/modules/AM (the one `config` applies), or a 404 naming the file. */
function userconfigFile(s: NodeService, module: string): string {
  s.modules.get(module); // 404 for an unknown module
  return join(s.paths.moduleDir(module), "conf", "userconfig.xml");
}

type Template = { readonly name: string; readonly group: string };

/** The .safe files under SAFE/Application_Modules, by group folder (generic, demo, published, other, backup). */
async function listTemplates(root: string): Promise<Template[]> {
  const out: Template[] = [];
  const walk = async (dir: string, group: string, depth: number) => {
    let entries: Deno.DirEntry[] = [];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isFile && e.name.endsWith(".safe")) out.push({ name: e.name.slice(0, -5), group: group || "." });
      else if (e.isDirectory && depth < 2) {
        await walk(join(dir, e.name), group ? `${group}/${e.name}` : e.name, depth + 1);
      }
    }
  };
  await walk(root, "", 0);
  return out.sort((a, b) => a.group.localeCompare(b.group) || a.name.localeCompare(b.name));
}

const enc = encodeURIComponent;

function errorOf(r: ApiResponse): string {
  return (r.json as { error?: string } | undefined)?.error ?? `HTTP ${r.status}`;
}

function query(req: ApiRequest, names: readonly string[]): string {
  const q = new URLSearchParams();
  for (const n of names) if (req.query[n] !== undefined) q.set(n, req.query[n]);
  const s = q.toString();
  return s ? `?${s}` : "";
}

export function consoleRoutes(s: NodeService): Route[] {
  const events = eventsRoutes({ rows: () => clusterModuleRows(s) });
  // A local change reaches the browsers at once; the hub's tick still catches the other nodes' changes.
  s.onModuleChange(() => {
    if (events.hub.clientCount > 0) void events.hub.refresh();
  });
  return [
    ...events.routes,
    {
      method: "get",
      path: "/cluster/modules/local",
      summary: "This node's modules with their state and detail resources (console tiles)",
      mutates: false,
      handler: () => ({
        json: {
          node: s.cluster.active?.localNode ?? Deno.hostname(),
          local: true,
          modules: localModuleRows(s),
        } satisfies ConsoleNodeRow,
      }),
    },
    {
      method: "get",
      path: "/cluster/modules",
      summary: "Every node's modules with their state, in node order; an unreachable node has an error",
      mutates: false,
      handler: async () => ({ json: await clusterModuleRows(s) }),
    },
    {
      method: "get",
      path: "/cluster/xml",
      summary: "This node's active cluster.xml as text",
      mutates: false,
      handler: () => {
        const a = s.cluster.active;
        if (!a) throw notFound("this node has no cluster configuration");
        return { text: a.xml, contentType: "application/xml; charset=utf-8" };
      },
    },
    {
      method: "get",
      path: "/nodes/{node}/modules/{module}/log",
      summary: "A node's module log, through this node (console); same query as /modules/{module}/log",
      mutates: false,
      query: ["verbose", "last", "sinceId", "search"],
      handler: (req) =>
        onNode(
          s,
          req,
          "GET",
          `/api/v1/modules/${enc(req.params.module)}/log${
            query(req, ["verbose", "last", "sinceId", "search"])
          }`,
        ),
    },
    {
      method: "get",
      path: "/nodes/{node}/modules/{module}/resources",
      summary: "A node's module resources, through this node (console)",
      mutates: false,
      handler: (req) => onNode(s, req, "GET", `/api/v1/modules/${enc(req.params.module)}/resources`),
    },
    {
      method: "get",
      path: "/nodes/{node}/modules/{module}/resources/{resource}",
      summary: "One resource of a node's module with ?history=N, through this node (console)",
      mutates: false,
      query: ["history"],
      handler: (req) =>
        onNode(
          s,
          req,
          "GET",
          `/api/v1/modules/${enc(req.params.module)}/resources/${enc(req.params.resource)}${
            query(req, ["history"])
          }`,
        ),
    },
    {
      method: "post",
      path: "/nodes/{node}/modules/{module}/commands/{verb}",
      summary: "A module action on a node, through this node (console); body as /modules/{module}/commands",
      mutates: true,
      requiredRole: "Control",
      requestBody: "json",
      handler: (req) => {
        const b = req.body.length ? req.json<Record<string, unknown>>() : {};
        if (typeof b !== "object" || b === null || Array.isArray(b)) {
          throw new NodeError("body must be an object");
        }
        return onNode(
          s,
          req,
          "POST",
          `/api/v1/modules/${enc(req.params.module)}/commands/${enc(req.params.verb)}`,
          b,
        );
      },
    },
    {
      method: "get",
      path: "/nodes/{node}/cmdlog",
      summary: "A node's command log, through this node (console); newest first, ?last=N (default 300)",
      mutates: false,
      query: ["last"],
      handler: (req) => onNode(s, req, "GET", `/api/v1/cmdlog${query(req, ["last"])}`),
    },
    {
      method: "get",
      path: "/modules/{module}/snapshot",
      summary:
        "Support snapshot of the module as snapshot_<node>_<AM>.zip: configuration (.safe), module log " +
        "(plain and verbose), command log, resources, state, cluster.xml",
      mutates: false,
      requiredRole: "Control",
      handler: async (req) => {
        const snap = await moduleSnapshot(s, req.params.module);
        return { bytes: snap.bytes, contentType: "application/zip", filename: snap.filename };
      },
    },
    {
      method: "get",
      path: "/nodes/{node}/modules/{module}/snapshot",
      summary: "A node's module snapshot zip, through this node (console)",
      mutates: false,
      requiredRole: "Control",
      handler: (req) =>
        bytesOnNode(
          s,
          req,
          `/api/v1/modules/${enc(req.params.module)}/snapshot`,
          `snapshot_${req.params.node}_${req.params.module}.zip`,
        ),
    },
    {
      method: "get",
      path: "/templates",
      summary: "Installable module templates: the .safe files under SAFE/Application_Modules, by folder " +
        "(install one with POST /modules?name=<name> and an empty body)",
      mutates: false,
      requiredRole: "Admin",
      handler: async () => ({ json: await listTemplates(s.paths.applicationModules) }),
    },
    {
      method: "get",
      path: "/modules/{module}/userconfig",
      summary: "The module's userconfig.xml in SAFE/modules/AM (what 'config' applies), as text",
      mutates: false,
      requiredRole: "Admin",
      handler: async (req) => {
        const f = userconfigFile(s, req.params.module);
        const xml = await readTextIfExists(f);
        if (xml === null) throw notFound(`${f} is missing`);
        return { text: xml, contentType: "application/xml; charset=utf-8" };
      },
    },
    {
      method: "put",
      path: "/modules/{module}/userconfig",
      summary: "Replace the module's userconfig.xml in SAFE/modules/AM after the same check as confcheck " +
        "(refused with the error, file unchanged, when it fails); apply with POST /modules/{module}/config",
      mutates: true,
      requestBody: "text",
      handler: async (req) => {
        const f = userconfigFile(s, req.params.module);
        const xml = req.text();
        if (!xml.trim()) throw new NodeError("userconfig.xml is empty");
        const previous = await readTextIfExists(f);
        await atomicWriteFile(f, xml);
        try {
          const cfg = await s.modules.confcheck(req.params.module);
          return { json: { ok: true, mode: cfg.mode, warnings: cfg.warnings } };
        } catch (e) {
          // The check reads the file on disk; a refused text must not stay there.
          if (previous === null) await Deno.remove(f).catch(() => {});
          else await atomicWriteFile(f, previous);
          throw e;
        }
      },
    },
    {
      method: "post",
      path: "/modules/{module}/distribute",
      summary: 'Apply the module on every node (safekit -H "*" -E AM): configure it here, then install it ' +
        "with the same id and configure it on the other nodes; the module must be stopped on each node",
      mutates: true,
      handler: async (req) => {
        const module = req.params.module;
        const rt = s.modules.get(module);
        const results: { node: string; ok: boolean; message: string }[] = [];
        const here = s.cluster.active?.localNode ?? Deno.hostname();
        try {
          await s.modules.config(module);
          results.push({ node: here, ok: true, message: "configured" });
        } catch (e) {
          // The other nodes get nothing this node does not hold as its active configuration.
          return {
            json: { results: [{ node: here, ok: false, message: (e as Error).message }] },
            status: 409,
          };
        }
        const a = s.cluster.active;
        const zip = await s.modules.package(module);
        const q = new URLSearchParams({ name: module, id: String(rt.id), reinstall: "1" });
        for (const node of a ? nodeNames(a.config).filter((n) => n !== a.localNode) : []) {
          try {
            const command = `-H * -E ${module} by ${callerLabel(req.caller)}`;
            const installed = await remoteRequest(
              s,
              node,
              "POST",
              `/api/v1/modules?${q}`,
              zip,
              command,
              30_000,
            );
            if (installed.status !== 200) throw new Error(errorOf(installed));
            const configured = await remoteRequest(
              s,
              node,
              "POST",
              `/api/v1/modules/${enc(module)}/config`,
              {},
              command,
              30_000,
            );
            if (configured.status !== 200) throw new Error(errorOf(configured));
            results.push({ node, ok: true, message: `installed with id ${rt.id} and configured` });
          } catch (e) {
            results.push({ node, ok: false, message: (e as Error).message });
          }
        }
        const failed = results.filter((r) => !r.ok);
        if (failed.length === 0) return { json: { results } };
        return {
          json: { results, error: failed.map((r) => `${r.node}: ${r.message}`).join("; ") },
          status: 502,
        };
      },
    },
  ];
}
