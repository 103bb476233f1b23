// cluster.xml -> ClusterConfig (spec §4.1), with the documented rules: at least one lan holding
// every node, at least two nodes per lan, unique names and addresses in a lan, one command lan.

import { ConfigError } from "./config_error.ts";
import type { ClusterConfig, ClusterLan, ClusterNode } from "./cluster_types.ts";
import { deepFreeze } from "./deep_freeze.ts";
import { ElementReader, type ReadContext } from "./element_reader.ts";
import { checkNodeAddress } from "./network_address.ts";
import { parseXmlTree, type XmlElement } from "./xml_tree.ts";

const NODE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

export function parseClusterXml(text: string, file = "cluster.xml"): ClusterConfig {
  const ctx: ReadContext = { file, warnings: [] };
  const root = parseXmlTree(text, file);
  const cluster = new ElementReader(ctx, root);
  if (root.name !== "cluster") throw cluster.error("root element must be <cluster>");
  cluster.expectShape({ attributes: [], children: ["lans"] });
  const lansEl = cluster.exactlyOne("lans");
  const lans = cluster.reader(lansEl).expectShape({
    attributes: ["port", "pulse", "mlost_count", "slost_count"],
    children: ["lan"],
  });
  const lanList = lans.atLeastOne("lan").map((el) => readLan(ctx, el));
  checkUniqueLanNames(ctx, lanList);
  checkNodeNamesConsistent(ctx, lanList);
  const commandLan = chooseCommandLan(ctx, lansEl, lanList);
  return deepFreeze({
    file,
    port: lans.port("port") ?? 4800,
    pulseMs: lans.timeMs("pulse", "ms", 100),
    mlostCount: lans.integer("mlost_count", 20, 1),
    slostCount: lans.integer("slost_count", 10, 1),
    lans: lanList.map(({ commandAttr: _, ...l }) => ({ ...l, command: l.name === commandLan })),
    commandLan,
    warnings: ctx.warnings,
  });
}

function readLan(ctx: ReadContext, el: XmlElement): ClusterLan & { readonly commandAttr?: "on" | "off" } {
  const lan = new ElementReader(ctx, el);
  const connect = lan.attribute("connect");
  if (connect !== undefined) {
    throw lan.attributeError(
      connect,
      "obsolete since SafeKit 8.2: remove the 'connect' attribute (release notes §4.1.1.7)",
    );
  }
  lan.expectShape({
    attributes: ["name", "command"],
    ignoredAttributes: ["console", "framework"],
    children: ["node"],
  });
  const name = lan.requiredString("name");
  const nodes = lan.children("node").map((n) => readNode(lan.reader(n)));
  if (nodes.length < 2) {
    throw lan.error(`lan '${name}' must contain at least 2 <node> elements (found ${nodes.length})`);
  }
  for (let i = 0; i < nodes.length; i++) {
    for (let j = 0; j < i; j++) {
      if (nodes[i].name === nodes[j].name) {
        throw nodeError(ctx, nodes[i], "name", `duplicate node name '${nodes[i].name}' in lan '${name}'`);
      }
      if (nodes[i].addr === nodes[j].addr) {
        throw nodeError(
          ctx,
          nodes[i],
          "addr",
          `address '${nodes[i].addr}' is already used by node '${nodes[j].name}' in lan '${name}'`,
        );
      }
    }
  }
  return {
    name,
    command: false,
    nodes,
    at: { line: el.line, column: el.column },
    commandAttr: lan.oneOf("command", ["on", "off"]),
  };
}

function readNode(node: ElementReader): ClusterNode {
  node.expectShape({ attributes: ["name", "addr", "laddr"] });
  const name = node.requiredString("name");
  if (!NODE_NAME.test(name)) {
    throw node.invalidAttribute("name", "a node name made of letters, digits, '_', '.', '-'");
  }
  const addr = node.requiredString("addr").trim();
  const addrCheck = checkNodeAddress(addr);
  if (!addrCheck.ok) throw node.invalidAttribute("addr", addrCheck.expected);
  const laddr = node.optionalString("laddr")?.trim();
  if (laddr !== undefined) {
    const laddrCheck = checkNodeAddress(laddr);
    if (!laddrCheck.ok) throw node.invalidAttribute("laddr", laddrCheck.expected);
  }
  const at = { line: node.el.line, column: node.el.column };
  return laddr === undefined ? { name, addr, at } : { name, addr, laddr, at };
}

function nodeError(ctx: ReadContext, node: ClusterNode, attribute: string, detail: string): ConfigError {
  return new ConfigError({ file: ctx.file, ...node.at, element: "node", attribute, detail });
}

function checkUniqueLanNames(ctx: ReadContext, lans: readonly ClusterLan[]): void {
  lans.forEach((lan, i) => {
    if (lans.slice(0, i).some((other) => other.name === lan.name)) {
      throw new ConfigError({
        file: ctx.file,
        ...lan.at,
        element: "lan",
        attribute: "name",
        detail: `duplicate lan name '${lan.name}'`,
      });
    }
  });
}

// A node name stands for one server on every lan: the same address under two names (or the
// same name with the address of another node) means the lans disagree about who is who.
function checkNodeNamesConsistent(ctx: ReadContext, lans: readonly ClusterLan[]): void {
  const nameOfAddr = new Map<string, { node: string; lan: string }>();
  for (const lan of lans) {
    for (const node of lan.nodes) {
      const seen = nameOfAddr.get(node.addr);
      if (seen !== undefined && seen.node !== node.name) {
        throw nodeError(
          ctx,
          node,
          "addr",
          `address '${node.addr}' belongs to node '${seen.node}' in lan '${seen.lan}', not to '${node.name}'`,
        );
      }
      nameOfAddr.set(node.addr, { node: node.name, lan: lan.name });
    }
  }
  const all = allNodeNames(lans);
  if (!lans.some((lan) => all.every((n) => lan.nodes.some((node) => node.name === n)))) {
    const lan = lans[0];
    const missing = all.filter((n) => !lan.nodes.some((node) => node.name === n));
    throw new ConfigError({
      file: ctx.file,
      ...lan.at,
      element: "lans",
      detail: `no lan contains all nodes (${all.join(", ")}); lan '${lan.name}' lacks ${missing.join(", ")}`,
    });
  }
}

function allNodeNames(lans: readonly ClusterLan[]): string[] {
  const names: string[] = [];
  for (const lan of lans) for (const n of lan.nodes) if (!names.includes(n.name)) names.push(n.name);
  return names;
}

// The command lan is the one with command="on"; without one, the first lan not marked "off".
function chooseCommandLan(
  ctx: ReadContext,
  lansEl: XmlElement,
  lans: readonly (ClusterLan & { readonly commandAttr?: "on" | "off" })[],
): string {
  const on = lans.filter((l) => l.commandAttr === "on");
  if (on.length > 1) {
    throw new ConfigError({
      file: ctx.file,
      ...on[1].at,
      element: "lan",
      attribute: "command",
      detail: `only one lan may set command="on" (already set on lan '${on[0].name}')`,
    });
  }
  const chosen = on[0] ?? lans.find((l) => l.commandAttr !== "off");
  if (chosen === undefined) {
    throw new ConfigError({
      file: ctx.file,
      line: lansEl.line,
      column: lansEl.column,
      element: "lans",
      detail: `no command lan: every lan has command="off" (set command="on" on one lan)`,
    });
  }
  const all = allNodeNames(lans);
  const missing = all.filter((n) => !chosen.nodes.some((node) => node.name === n));
  if (missing.length > 0) {
    throw new ConfigError({
      file: ctx.file,
      ...chosen.at,
      element: "lan",
      attribute: "command",
      detail: `the command lan '${chosen.name}' must contain all nodes (missing: ${missing.join(", ")})`,
    });
  }
  return chosen.name;
}
