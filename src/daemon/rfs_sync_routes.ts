// The reintegration policy of a mirror module (spec §3.7 `safekit rfssync`, §7.2): usersetting.rfssyncmode is
// "default" (zones of modified files, else whole modified files) or "full" (the next reintegration on this
// node copies everything; back to "default" once it completed). Read by the mirror runtime when a
// reintegration starts (mirror_runtime.ts #syncPolicy).
//
// `rfssync external prim|second <uid>` (seed the secondary from a backup) is refused with what to do instead:
// restore the backup on the secondary and run `safekit secondforce -d <date of the backup>`, which copies
// only the files modified after that date — the same result without a uid kept on both nodes.
import { NodeError } from "./node_error.ts";
import type { NodeService } from "./node_service.ts";
import type { Route } from "../web/route_table.ts";

export type RfsSyncPolicy = {
  readonly module: string;
  readonly mode: "default" | "full";
  readonly since?: number;
};

function policyOf(s: NodeService, module: string): RfsSyncPolicy {
  const { rt, resources } = s.modules.requireStores(module);
  if (rt.mode !== "mirror") {
    throw new NodeError(`module '${module}' is a ${rt.mode} module: nothing is replicated`);
  }
  const r = resources.get("usersetting.rfssyncmode");
  return r?.value === "full" ? { module, mode: "full", since: r.at } : { module, mode: "default" };
}

export function rfsSyncRoutes(s: NodeService): Route[] {
  return [
    {
      method: "get",
      path: "/modules/{module}/rfs/syncmode",
      summary: "rfssync: this node's reintegration policy (default or full)",
      mutates: false,
      handler: (req) => ({ json: policyOf(s, req.params.module) }),
    },
    {
      method: "post",
      path: "/modules/{module}/rfs/syncmode",
      summary: "rfssync full|default: the policy of this node's next reintegration; body {mode}",
      mutates: true,
      requiredRole: "Admin",
      requestBody: "json",
      handler: (req) => {
        const mode = req.json<{ mode?: unknown }>().mode;
        if (mode !== "full" && mode !== "default") throw new NodeError(`"mode" must be "full" or "default"`);
        const { resources, log } = s.modules.requireStores(req.params.module);
        policyOf(s, req.params.module);
        resources.set("usersetting.rfssyncmode", mode, { at: Date.now(), by: "root" });
        log.append({
          at: Date.now(),
          component: "reintegre",
          level: "I",
          message: mode === "full"
            ? "Next reintegration on this node: full copy (rfssync full)"
            : "Next reintegration on this node: default policy (rfssync default)",
        });
        return { json: policyOf(s, req.params.module) };
      },
    },
  ];
}
