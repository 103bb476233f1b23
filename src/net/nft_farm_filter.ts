// The farm load-balancing filter (spec §8) as an nftables ruleset. Every node holds the VIP; frames for it
// reach every node (virtual unicast MAC that is never a source, so switches flood it); on each node the
// criterion of the first matching <rule> is hashed into one of 256 buckets and the packet is accepted only
// if this node owns that bucket. Pure text generation here; applying it is farm_filter_driver.ts.
//
// Recipe and traps (spike §5, verified on nft 1.0.6 / Linux 6.18):
// - nft 1.0.6 cannot compare `jhash ...` with a set: the hash goes into `meta mark`, then the mark is
//   looked up in the bucket set (so the skb mark is borrowed on VIP traffic).
// - Frames to the virtual MAC arrive as PACKET_OTHERHOST, which ip_rcv() drops before any inet hook: a
//   netdev ingress chain turns them into PACKET_HOST first.
// - IPv6: the kernel answers neighbour solicitations for the VIP with the device's own MAC in the target
//   link-layer option, and nft has no checksum fix-up for raw payload writes. The NA is rewritten in the
//   output hook with a checksum-neutral edit: the option's MAC becomes the virtual MAC and the 16 low bits
//   of the NA's reserved field (zero when sent, ignored by receivers, RFC 4861 §4.4) take the ones'
//   complement difference, so the ICMPv6 checksum stays valid (ndRewriteLine).
// - Conntrack: flows already accepted stay on their node when buckets move (`ct state established`
//   accepted before the bucket check), and a new owner drops non-SYN packets of flows it never saw
//   instead of answering them with an RST that would kill the flow on its old owner.

import type { LoadBalancingRule, VipConfig } from "../config/module_types.ts";
import { BUCKET_COUNT } from "../core/farm_buckets.ts";
import { canonicalIp, formatMac, type IpFamily, parseIp, parseMac } from "./ip_address.ts";

/** One interface carrying farm VIPs, and the virtual MAC the VIPs are announced with. */
export type FarmFilterInterface = {
  readonly device: string;
  readonly virtualMac: string;
  readonly vips: readonly string[];
  /**
   * The device's own MAC: needed for IPv6 VIPs, whose neighbour advertisements are rewritten from it to the
   * virtual MAC (see ndRewriteLine). Without it an IPv6 VIP is not announced by the virtual MAC.
   */
  readonly realMac?: string;
};

export type FarmFilterGroup = {
  readonly name: string;
  readonly rules: readonly LoadBalancingRule[];
  /** the buckets this node accepts now; empty = traffic of the group closed on this node */
  readonly buckets: readonly number[];
};

export type FarmFilterSpec = {
  /** nft table name, the same in the inet, netdev and arp families */
  readonly table: string;
  readonly interfaces: readonly FarmFilterInterface[];
  readonly groups: readonly FarmFilterGroup[];
};

/** Same on every node, so every node computes the same bucket for a packet. */
export const HASH_SEED = "0x5afe";

export class FarmFilterError extends Error {}

/** `safekit_<module>` restricted to the characters nft accepts in a table name. */
export const farmTableName = (module: string) => `safekit_${module.replace(/[^A-Za-z0-9_]/g, "_")}`;

/** Set name of the i-th group (group names may hold characters nft refuses). */
export const bucketSetName = (groupIndex: number) => `buckets_${groupIndex}`;

/** Default virtual MAC of spec §4.6: 5a:fe + the first VIP in hex (IPv6: its last 4 bytes). */
export function defaultVirtualMac(vip: string): string {
  const ip = parseIp(vip);
  if (!ip) throw new FarmFilterError(`'${vip}' is not an IP address`);
  return formatMac(new Uint8Array([0x5a, 0xfe, ...ip.bytes.slice(-4)]));
}

/** Bucket numbers as nft interval elements: `0-85, 90, 100-120`; "" for none. */
export function bucketElements(buckets: readonly number[]): string {
  const sorted = [...new Set(buckets)].sort((a, b) => a - b);
  for (const b of sorted) {
    if (!Number.isInteger(b) || b < 0 || b >= BUCKET_COUNT) {
      throw new FarmFilterError(`bucket ${b} out of 0..${BUCKET_COUNT - 1}`);
    }
  }
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(", ");
}

const familyOf = (vip: string): IpFamily => parseIp(vip)!.family;
const daddr = (vip: string) => `${familyOf(vip) === 4 ? "ip" : "ip6"} daddr ${vip}`;

/** nft hash expression of a rule's criterion for one VIP family, or null when it cannot apply. */
export function criterionHash(rule: LoadBalancingRule, family: IpFamily): string | null {
  const hash = (what: string) => `jhash ${what} mod ${BUCKET_COUNT} seed ${HASH_SEED}`;
  switch (rule.filter) {
    case "on_addr":
      return hash(family === 4 ? "ip saddr" : "ip6 saddr");
    case "on_port":
      return rule.proto === "arp" ? null : hash(`${rule.proto} sport`);
    case "on_ipid":
      // The IPv6 header has no identification field (spec: on_ipid is not for IPv6).
      return family === 4 ? hash("ip id") : null;
  }
}

const hex = (bytes: Uint8Array) => `0x${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;

/** Ones' complement sum of the 16-bit words of a MAC. */
function macWordSum(mac: Uint8Array): number {
  let sum = (mac[0] << 8 | mac[1]) + (mac[2] << 8 | mac[3]) + (mac[4] << 8 | mac[5]);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/**
 * The 16-bit word that, added to the words of `to`, gives the same ones' complement sum as the words of
 * `from`: written into the NA's reserved field it keeps the checksum valid when `from` becomes `to`.
 */
export function checksumCompensation(from: Uint8Array, to: Uint8Array): number {
  let x = macWordSum(from) + (0xffff - macWordSum(to));
  while (x > 0xffff) x = (x & 0xffff) + (x >>> 16);
  return x;
}

/**
 * The nft rule (inet output hook) turning this node's neighbour advertisements for IPv6 `vip` on `device`
 * into advertisements of the virtual MAC. Offsets in the ICMPv6 message: reserved low word at bit 48,
 * target address at 64, option type+length at 192, option MAC at 208.
 */
export function ndRewriteLine(device: string, vip: string, realMac: string, virtualMac: string): string {
  const target = parseIp(vip)!.bytes;
  const from = parseMac(realMac)!, to = parseMac(virtualMac)!;
  const fix = checksumCompensation(from, to).toString(16).padStart(4, "0");
  return `oifname "${device}" icmpv6 type nd-neighbor-advert @th,64,128 ${hex(target)} @th,192,16 0x0201 ` +
    `@th,208,48 ${hex(from)} @th,208,48 set ${hex(to)} @th,48,16 set 0x${fix}`;
}

function validate(spec: FarmFilterSpec): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(spec.table)) {
    throw new FarmFilterError(`invalid nft table name '${spec.table}'`);
  }
  for (const i of spec.interfaces) {
    if (!/^[\w.:-]{1,15}$/.test(i.device)) throw new FarmFilterError(`invalid interface name '${i.device}'`);
    if (!parseMac(i.virtualMac)) throw new FarmFilterError(`invalid virtual MAC '${i.virtualMac}'`);
    if (i.realMac !== undefined && !parseMac(i.realMac)) {
      throw new FarmFilterError(`invalid MAC '${i.realMac}'`);
    }
    for (const v of i.vips) {
      if (canonicalIp(v) !== v) throw new FarmFilterError(`VIP '${v}' is not canonical`);
    }
  }
}

function ruleLines(vip: string, rule: LoadBalancingRule, setName: string): string[] {
  if (rule.proto === "arp") return []; // ARP distribution is vmac_directed's: see docs/network.md
  const hash = criterionHash(rule, familyOf(vip));
  if (hash === null) return [`# ${rule.filter} does not apply to ${vip}: rule skipped`];
  const match = `${daddr(vip)} ${
    rule.port === "*" ? `meta l4proto ${rule.proto}` : `${rule.proto} dport ${rule.port}`
  }`;
  return [
    `${match} meta mark set ${hash}`,
    `${match} meta mark @${setName} accept`,
    `${match} drop`,
  ];
}

/** The complete ruleset; applying it (nft -f) replaces any previous one of the same table atomically. */
export function farmRuleset(spec: FarmFilterSpec): string {
  validate(spec);
  const t = spec.table;
  const vips = spec.interfaces.flatMap((i) => i.vips);
  const out: string[] = [...removalLines(t)];

  out.push(`table netdev ${t} {`);
  spec.interfaces.forEach((i, k) => {
    out.push(
      `  chain ingress_${k} {`,
      `    type filter hook ingress device "${i.device}" priority -500; policy accept;`,
      `    ether daddr ${formatMac(parseMac(i.virtualMac)!)} meta pkttype set host`,
      `  }`,
    );
  });
  out.push(`}`);

  // Every node answers ARP for the VIP; the answer must name the virtual MAC, never the node's own.
  out.push(
    `table arp ${t} {`,
    `  chain announce {`,
    `    type filter hook output priority 0; policy accept;`,
  );
  for (const i of spec.interfaces) {
    for (const v of i.vips.filter((v) => familyOf(v) === 4)) {
      out.push(
        `    arp operation reply arp saddr ip ${v} arp saddr ether set ${formatMac(parseMac(i.virtualMac)!)}`,
      );
    }
  }
  out.push(`  }`, `}`);

  out.push(`table inet ${t} {`);
  spec.groups.forEach((g, k) => {
    const elements = bucketElements(g.buckets);
    out.push(
      `  # group ${g.name.replace(/[\r\n]/g, " ")}`,
      `  set ${bucketSetName(k)} {`,
      `    type mark; flags interval;`,
      ...(elements ? [`    elements = { ${elements} }`] : []),
      `  }`,
    );
  });
  out.push(`  chain filter {`, `    type filter hook prerouting priority -150; policy accept;`);
  for (const v of vips) {
    out.push(
      `    ${daddr(v)} ct state established,related accept`,
      // ICMP is not balanced (SafeKit's own network test expects one echo reply per node) and ICMPv6
      // carries neighbour discovery, which must reach every node.
      `    ${daddr(v)} meta l4proto { icmp, ipv6-icmp } accept`,
      `    ${daddr(v)} tcp flags & (syn | ack) != syn ct state new drop`,
    );
  }
  spec.groups.forEach((g, k) => {
    for (const r of g.rules) {
      const targets = r.virtualAddr === "*" ? vips : vips.filter((v) => v === canonicalIp(r.virtualAddr));
      for (const v of targets) for (const l of ruleLines(v, r, bucketSetName(k))) out.push(`    ${l}`);
    }
  });
  // Traffic to a VIP that matches no rule is denied (spec §4.6 port-80 example).
  for (const v of vips) out.push(`    ${daddr(v)} drop`);
  out.push(`  }`);
  const ndLines = spec.interfaces.flatMap((i) =>
    i.realMac === undefined
      ? []
      : i.vips.filter((v) => familyOf(v) === 6).map((v) =>
        ndRewriteLine(i.device, v, i.realMac!, i.virtualMac)
      )
  );
  if (ndLines.length > 0) {
    out.push(`  chain announce6 {`, `    type filter hook output priority 0; policy accept;`);
    for (const l of ndLines) out.push(`    ${l}`);
    out.push(`  }`);
  }
  out.push(`}`);
  return out.join("\n") + "\n";
}

/** Creating then deleting makes the deletion valid whether or not the table exists (nft 1.0.6 has no destroy). */
function removalLines(t: string): string[] {
  return ["inet", "netdev", "arp"].flatMap((f) => [`table ${f} ${t} {}`, `delete table ${f} ${t}`]);
}

export const removeFarmRuleset = (table: string) => removalLines(table).join("\n") + "\n";

/** One transaction that replaces a group's buckets: no packet ever sees a half-updated set. */
export function bucketUpdate(table: string, groupIndex: number, buckets: readonly number[]): string {
  const set = `inet ${table} ${bucketSetName(groupIndex)}`;
  const elements = bucketElements(buckets);
  return `flush set ${set}\n` + (elements ? `add element ${set} { ${elements} }\n` : "");
}

/**
 * The filter of a farm module from its <vip>: the `where="alias"` VIPs of every <virtual_interface>, on
 * the device each was placed on (vip_manager), and this node's buckets per <group> (absent = none yet).
 * vmac_directed has no Linux equivalent here and is served like vmac_invisible (docs/network.md).
 */
export function farmFilterSpecFromConfig(
  module: string,
  vip: VipConfig,
  deviceOf: (vip: string) => string,
  bucketsOf: (group: string) => readonly number[] = () => [],
  macOf: (device: string) => string | undefined = () => undefined,
): FarmFilterSpec {
  const interfaces: FarmFilterInterface[] = [];
  for (const itf of vip.interfaces.filter((i) => i.kind === "virtual")) {
    const vips = itf.virtualAddrs.filter((a) => a.where === "alias").map((a) => {
      const c = canonicalIp(a.addr);
      if (!c) throw new FarmFilterError(`virtual_addr '${a.addr}' is not an IP address`);
      return c;
    });
    if (vips.length === 0) continue;
    const mac = itf.virtualInterfaceType === "vmac_invisible" && itf.virtualMac
      ? itf.virtualMac
      : defaultVirtualMac(vips[0]);
    const byDevice = new Map<string, string[]>();
    for (const v of vips) byDevice.set(deviceOf(v), [...(byDevice.get(deviceOf(v)) ?? []), v]);
    for (const [device, vs] of byDevice) {
      const realMac = macOf(device);
      interfaces.push({ device, virtualMac: mac, vips: vs, ...(realMac ? { realMac } : {}) });
    }
  }
  return {
    table: farmTableName(module),
    interfaces,
    groups: vip.loadBalancing.map((g) => ({ name: g.name, rules: g.rules, buckets: bucketsOf(g.name) })),
  };
}
