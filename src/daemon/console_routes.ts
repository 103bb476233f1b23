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
import { nodeNames } from "../config/mod.ts";
import type { ApiResponse } from "../cli/daemon_client.ts";
import { type ApiRequest, callerLabel, type Route } from "../web/route_table.ts";
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
    NODE_TIMEOUT_MS,
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

const enc = encodeURIComponent;

function query(req: ApiRequest, names: readonly string[]): string {
  const q = new URLSearchParams();
  for (const n of names) if (req.query[n] !== undefined) q.set(n, req.query[n]);
  const s = q.toString();
  return s ? `?${s}` : "";
}

export function consoleRoutes(s: NodeService): Route[] {
  return [
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
      handler: async () => {
        const a = s.cluster.active;
        const here = (): ConsoleNodeRow => ({
          node: a?.localNode ?? Deno.hostname(),
          local: true,
          modules: localModuleRows(s),
        });
        if (!a) return { json: [here()] };
        const rows = await Promise.all(
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
        return { json: rows };
      },
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
  ];
}
