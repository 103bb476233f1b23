// Small questions other components ask about a parsed cluster.xml.

import type { ClusterConfig, ClusterLan } from "./cluster_types.ts";

/** Every node name, in order of first appearance. */
export function nodeNames(cfg: ClusterConfig): readonly string[] {
  const names: string[] = [];
  for (const lan of cfg.lans) for (const n of lan.nodes) if (!names.includes(n.name)) names.push(n.name);
  return names;
}

export function commandLan(cfg: ClusterConfig): ClusterLan {
  return cfg.lans.find((l) => l.name === cfg.commandLan)!;
}

export function lanNames(cfg: ClusterConfig): readonly string[] {
  return cfg.lans.map((l) => l.name);
}

/** The address of a node on a lan (the command lan by default), or undefined when absent. */
export function addrOf(cfg: ClusterConfig, nodeName: string, lanName = cfg.commandLan): string | undefined {
  return cfg.lans.find((l) => l.name === lanName)?.nodes.find((n) => n.name === nodeName)?.addr;
}
