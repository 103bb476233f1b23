// Checks of a module's userconfig.xml that need cluster.xml: the lans and nodes it names must
// exist there. Legacy forms (<server>, <farm><node>) name addresses, not lans, and are not checked.

import type { ClusterConfig } from "./cluster_types.ts";
import { lanNames, nodeNames } from "./cluster_queries.ts";
import { ConfigError } from "./config_error.ts";
import type { ModuleConfig } from "./module_types.ts";
import type { SourcePosition } from "./source_position.ts";

/** Throws the first ConfigError found; returns nothing when the module fits the cluster. */
export function validateModuleAgainstCluster(module: ModuleConfig, cluster: ClusterConfig): void {
  const errors = moduleClusterErrors(module, cluster);
  if (errors.length > 0) throw errors[0];
}

/** Every mismatch between a module and the cluster, in file order of discovery. */
export function moduleClusterErrors(module: ModuleConfig, cluster: ClusterConfig): ConfigError[] {
  const lans = lanNames(cluster);
  const nodes = nodeNames(cluster);
  const errors: ConfigError[] = [];
  const err = (at: SourcePosition, element: string, attribute: string, detail: string) =>
    errors.push(new ConfigError({ file: module.file, ...at, element, attribute, detail }));
  const lanList = `cluster lans: ${lans.join(", ")}`;

  for (const hb of module.heart?.heartbeats ?? []) {
    if (hb.legacyServers.length === 0 && hb.name !== undefined && !lans.includes(hb.name)) {
      err(hb.at, "heartbeat", "name", `lan '${hb.name}' is not defined in ${cluster.file} (${lanList})`);
    }
  }
  for (const lan of module.farm?.lans ?? []) {
    if (!lans.includes(lan.name)) {
      err(lan.at, "lan", "name", `lan '${lan.name}' is not defined in ${cluster.file} (${lanList})`);
    }
  }
  const flow = module.rfs?.flow;
  if (flow !== undefined && !lans.includes(flow.name)) {
    err(flow.at, "flow", "name", `lan '${flow.name}' is not defined in ${cluster.file} (${lanList})`);
  }
  for (const group of module.vip?.loadBalancing ?? []) {
    for (const host of group.hosts) {
      if (!nodes.includes(host.name)) {
        err(
          host.at,
          "host",
          "name",
          `node '${host.name}' is not defined in ${cluster.file} (nodes: ${nodes.join(", ")})`,
        );
      }
    }
  }
  if (module.defaultPrim.kind === "node" && !nodes.includes(module.defaultPrim.node)) {
    errors.push(
      new ConfigError({
        file: module.file,
        ...module.defaultPrim.at,
        element: "service",
        attribute: "defaultprim",
        detail: `node '${module.defaultPrim.node}' is not defined in ${cluster.file} (nodes: ${
          nodes.join(", ")
        })`,
      }),
    );
  }
  return errors;
}
