// <vip> (mirror and farm, spec §4.6). Mirror interfaces hold <real_interface>, farm interfaces
// <virtual_interface>; load-balancing groups exist only in farm modules.

import type { ElementReader } from "./element_reader.ts";
import type {
  LoadBalancingGroup,
  LoadBalancingRule,
  ModuleMode,
  VipConfig,
  VipInterface,
  VirtualAddr,
} from "./module_types.ts";
import { checkServiceAddress } from "./network_address.ts";

const MAC = /^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$/;

export function readVip(vip: ElementReader, mode: ModuleMode): VipConfig {
  const farm = mode === "farm";
  vip.expectShape({
    attributes: farm ? ["tcpreset", "scriptcontrol"] : ["tcpreset"],
    children: farm ? ["interface_list", "loadbalancing_list"] : ["interface_list"],
  });
  const list = vip.reader(vip.exactlyOne("interface_list")).expectShape({
    attributes: [],
    children: ["interface"],
  });
  const interfaces = list.atLeastOne("interface").map((el) => readInterface(list.reader(el), farm));
  const lbEl = vip.atMostOne("loadbalancing_list");
  const loadBalancing = lbEl === undefined ? [] : readLoadBalancing(vip.reader(lbEl));
  // ARP answers can only be load-balanced when every node answers with its own MAC.
  const arpRule = loadBalancing.some((g) => g.rules.some((r) => r.proto === "arp"));
  const invisible = interfaces.findIndex((i) => i.virtualInterfaceType !== "vmac_directed");
  if (arpRule && invisible >= 0) {
    throw vip.elementError(
      list.children("interface")[invisible],
      'a rule with proto="arp" needs <virtual_interface type="vmac_directed"> on every interface',
    );
  }
  return {
    tcpReset: vip.onOff("tcpreset", true),
    scriptControl: vip.onOff("scriptcontrol", false),
    interfaces,
    loadBalancing,
  };
}

function readInterface(itf: ElementReader, farm: boolean): VipInterface {
  const holder = farm ? "virtual_interface" : "real_interface";
  itf.expectShape({
    attributes: ["check", "arpreroute", "arpinterval", "arpelapse", "name"],
    children: [holder],
  });
  const holderReader = itf.reader(itf.exactlyOne(holder));
  holderReader.expectShape({ attributes: farm ? ["type", "addr"] : [], children: ["virtual_addr"] });
  const virtualMac = holderReader.optionalString("addr");
  if (virtualMac !== undefined && !MAC.test(virtualMac)) {
    throw holderReader.invalidAttribute("addr", "a MAC address like 5A:FE:C0:A8:38:14");
  }
  const virtualAddrs = holderReader.atLeastOne("virtual_addr").map((el) =>
    readVirtualAddr(holderReader.reader(el), farm)
  );
  return {
    check: itf.onOff("check", true),
    arpReroute: itf.onOff("arpreroute", false),
    arpIntervalMs: itf.timeMs("arpinterval", "s", 60_000),
    arpElapseMs: itf.timeMs("arpelapse", "s", 1_200_000),
    name: itf.optionalString("name"),
    kind: farm ? "virtual" : "real",
    virtualInterfaceType: farm ? holderReader.oneOf("type", ["vmac_directed", "vmac_invisible"]) : undefined,
    virtualMac,
    virtualAddrs,
  };
}

function readVirtualAddr(va: ElementReader, farm: boolean): VirtualAddr {
  va.expectShape({ attributes: ["addr", "where", "check", "connections", "netmask"] });
  const addr = va.requiredString("addr");
  const check = checkServiceAddress(addr);
  if (!check.ok) throw va.invalidAttribute("addr", check.expected);
  // GAP: the UG gives no default for 'where'; we take the only value that fits each mode's syntax.
  const where = farm
    ? va.oneOf("where", ["alias"], "alias")
    : va.oneOf("where", ["one_side_alias", "one_side"], "one_side_alias");
  const netmask = va.optionalString("netmask");
  if (netmask !== undefined && !/^\d{1,3}(\.\d{1,3}){3}$/.test(netmask) && !/^\d{1,3}$/.test(netmask)) {
    throw va.invalidAttribute("netmask", "a netmask like 255.255.255.0 or a prefix length like 24");
  }
  return {
    addr,
    where,
    check: va.onOff("check", true),
    connections: va.onOff("connections", false),
    netmask,
  };
}

function readLoadBalancing(lb: ElementReader): LoadBalancingGroup[] {
  lb.expectShape({ attributes: [], children: ["group"] });
  const groups = lb.atLeastOne("group").map((el) => readGroup(lb.reader(el)));
  groups.forEach((g, i) => {
    if (groups.slice(0, i).some((o) => o.name === g.name)) {
      throw lb.elementError(lb.children("group")[i], `duplicate load-balancing group '${g.name}'`);
    }
  });
  return groups;
}

function readGroup(group: ElementReader): LoadBalancingGroup {
  group.expectShape({ attributes: ["name"], children: ["cluster", "rule"] });
  const name = group.requiredString("name");
  const clusterEl = group.atMostOne("cluster");
  const hosts = clusterEl === undefined ? [] : readHosts(group.reader(clusterEl));
  const rules = group.atLeastOne("rule").map((el) => readRule(group.reader(el)));
  return { name, hosts, rules };
}

function readHosts(cluster: ElementReader): LoadBalancingGroup["hosts"] {
  cluster.expectShape({ attributes: [], children: ["host"] });
  const hostEls = cluster.atLeastOne("host");
  return hostEls.map((el, i) => {
    const host = cluster.reader(el).expectShape({ attributes: ["name", "power"] });
    const name = host.requiredString("name");
    if (hostEls.slice(0, i).some((o) => o.attributes.find((a) => a.name === "name")?.value === name)) {
      throw host.invalidAttribute("name", `a host name not already listed in this group ('${name}' is)`);
    }
    return { name, power: host.integer("power", 1, 0), at: { line: el.line, column: el.column } };
  });
}

function readRule(rule: ElementReader): LoadBalancingRule {
  rule.expectShape({ attributes: ["virtual_addr", "port", "proto", "filter"] });
  const virtualAddr = rule.string("virtual_addr", "*");
  if (virtualAddr !== "*") {
    const check = checkServiceAddress(virtualAddr);
    if (!check.ok) throw rule.invalidAttribute("virtual_addr", `'*' or ${check.expected}`);
  }
  const portText = rule.string("port", "*");
  const port = portText === "*" ? "*" : rule.port("port")!;
  const proto = rule.requiredOneOf("proto", ["tcp", "udp", "arp"] as const);
  const filter = rule.requiredOneOf("filter", ["on_addr", "on_port", "on_ipid"] as const);
  if (proto === "arp" && filter !== "on_addr") {
    throw rule.invalidAttribute("filter", 'on_addr with proto="arp"');
  }
  if (proto === "tcp" && filter === "on_ipid") {
    throw rule.invalidAttribute("filter", 'on_addr or on_port with proto="tcp" (on_ipid is for UDP)');
  }
  return { virtualAddr, port, proto, filter };
}
