// `safekit -r vip_if_ctrl -l [-m AM]` (spec §3.8): each farm node's bucket bitmap, per load-balancing group,
// as this node sees the farm. Without -m: every installed farm module. The text is formatVipIfCtrl's
// (core/farm_buckets.ts); --json gives the node's views as they come (GET /modules/{module}/farm).
import type { BucketAssignment, FarmGroup } from "../core/farm_buckets.ts";
import { formatVipIfCtrl } from "../core/farm_buckets.ts";
import { parseVerbArgs } from "./argv.ts";
import { CliError } from "./cli_error.ts";
import { printJson, type Verb } from "./context.ts";
import { expectOk } from "./daemon_client.ts";

/** What GET /api/v1/modules/{module}/farm answers (src/daemon/farm_routes.ts FarmView). */
export type FarmViewJson = {
  module: string;
  node: string | null;
  state: { local: string; qualifier: string } | null;
  groups: { group: FarmGroup; assignment: BucketAssignment; local: number[] }[];
};

/** The text for one module: a header, then formatVipIfCtrl's lines (or why there are none). */
export function formatFarmView(v: FarmViewJson): string {
  const state = v.state ? `${v.state.local} ${v.state.qualifier}` : "not configured";
  const head = `module ${v.module} on ${v.node ?? "?"} (${state})`;
  if (v.groups.length === 0) return `${head}: no load-balancing group (no <vip><loadbalancing_list>)\n`;
  return `${head}\n${formatVipIfCtrl(v.groups.map((g) => ({ group: g.group, a: g.assignment })))}`;
}

export const vipIfCtrl: Verb = async (ctx, args) => {
  const a = parseVerbArgs("vip_if_ctrl", args, { flags: ["l"], values: ["m"] });
  if (!a.has("l")) throw new CliError("'vip_if_ctrl' needs -l (list each node's farm bitmap)");
  let modules: string[];
  const m = a.value("m");
  if (m !== undefined) modules = [m];
  else {
    const all = expectOk<{ name: string; mode: string }[]>(
      await ctx.client.request("GET", "/api/v1/modules"),
    );
    modules = all.filter((x) => x.mode === "farm").map((x) => x.name);
    if (modules.length === 0 && !ctx.json) {
      ctx.io.out("no farm module installed");
      return 0;
    }
  }
  const views: FarmViewJson[] = [];
  for (const name of modules) {
    const path = `/api/v1/modules/${encodeURIComponent(name)}/farm`;
    views.push(expectOk<FarmViewJson>(await ctx.client.request("GET", path)));
  }
  if (ctx.json) printJson(ctx, views);
  else ctx.io.out(views.map(formatFarmView).join("\n").replace(/\n$/, ""));
  return 0;
};
