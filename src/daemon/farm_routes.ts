// Read-only view of a farm module's load balancing (spec §3.8 `safekit -r vip_if_ctrl -l`, §8): for each
// <loadbalancing_list> group, its powers, the membership this node last applied and the owner of each of
// the 256 buckets. The CLI formats it (core/farm_buckets.ts formatVipIfCtrl); the console may show it too.
import type { Route } from "../web/route_table.ts";
import { type FarmGroupBuckets, FarmRuntime } from "./farm_runtime.ts";
import type { ModuleStateView } from "./module_states.ts";
import { NodeError } from "./node_error.ts";
import type { NodeService } from "./node_service.ts";

/** JSON body of GET /api/v1/modules/{module}/farm. */
export type FarmView = {
  readonly module: string;
  /** the local node's name in the cluster (null before `safekit cluster config`) */
  readonly node: string | null;
  readonly state: ModuleStateView | null;
  /** empty for a module without <vip> (cloud mode) or not configured */
  readonly groups: readonly FarmGroupBuckets[];
};

export function farmView(s: NodeService, module: string): FarmView {
  const rt = s.modules.get(module);
  if (rt.mode !== "farm") {
    throw new NodeError(`module '${module}' is a ${rt.mode} module: only farm modules balance load on a VIP`);
  }
  return {
    module: rt.name,
    node: s.cluster.active?.localNode ?? null,
    state: rt.state,
    groups: rt.engine instanceof FarmRuntime ? rt.engine.bucketsView() : [],
  };
}

export function farmRoutes(s: NodeService): Route[] {
  return [
    {
      method: "get",
      path: "/modules/{module}/farm",
      summary: "Farm load balancing: each group's powers, membership and bucket owners (vip_if_ctrl -l)",
      mutates: false,
      handler: (req) => ({ json: farmView(s, req.params.module) }),
    },
  ];
}
