// `ip -j addr show` as data, and the pure decisions taken on it: which interface carries a VIP (the one whose
// subnet contains it, spec §4.6 interface@name "autodetect"), with which prefix, and whether it is present.

import { canonicalIp, inSubnet, type IpFamily, netmaskToPrefix, parseIp } from "./ip_address.ts";

export type LinkAddress = { readonly family: IpFamily; readonly local: string; readonly prefixLen: number };
export type IpLink = {
  readonly ifname: string;
  readonly mac?: string;
  readonly up: boolean;
  readonly loopback: boolean;
  readonly addrs: readonly LinkAddress[];
};

type RawAddrInfo = { family?: string; local?: string; prefixlen?: number };
type RawLink = { ifname?: string; address?: string; flags?: string[]; addr_info?: RawAddrInfo[] };

export function parseIpAddrJson(text: string): IpLink[] {
  const raw = JSON.parse(text) as RawLink[];
  if (!Array.isArray(raw)) throw new SyntaxError("ip -j addr: expected a JSON array");
  return raw.filter((l) => typeof l.ifname === "string").map((l) => ({
    ifname: l.ifname!,
    mac: l.address,
    up: (l.flags ?? []).includes("UP"),
    loopback: (l.flags ?? []).includes("LOOPBACK"),
    addrs: (l.addr_info ?? [])
      .filter((a) => (a.family === "inet" || a.family === "inet6") && typeof a.local === "string")
      .map((a) => ({
        family: a.family === "inet" ? 4 : 6,
        local: a.local!,
        prefixLen: a.prefixlen ?? (a.family === "inet" ? 32 : 128),
      })),
  }));
}

export type VipTarget = {
  readonly addr: string;
  /** virtual_addr@netmask (IPv4): dotted or a prefix length */
  readonly netmask?: string;
  /** interface@name; absent = the interface whose subnet contains the VIP */
  readonly interfaceName?: string;
};

export type VipPlacement = {
  readonly ifname: string;
  readonly family: IpFamily;
  /** canonical address text */
  readonly addr: string;
  readonly prefixLen: number;
};

export class VipPlacementError extends Error {}

/** Where the address is configured now, if anywhere. */
export function findAddress(links: readonly IpLink[], addr: string): VipPlacement | null {
  const want = canonicalIp(addr);
  if (!want) return null;
  for (const l of links) {
    for (const a of l.addrs) {
      if (canonicalIp(a.local) === want) {
        return { ifname: l.ifname, family: a.family, addr: want, prefixLen: a.prefixLen };
      }
    }
  }
  return null;
}

/** The interface and prefix a VIP goes on. Throws VipPlacementError saying what to configure. */
export function placeVip(target: VipTarget, links: readonly IpLink[]): VipPlacement {
  const ip = parseIp(target.addr);
  if (!ip) throw new VipPlacementError(`virtual_addr '${target.addr}' is not an IPv4 or IPv6 address`);
  const addr = canonicalIp(target.addr)!;
  let netmaskPrefix: number | null = null;
  if (target.netmask !== undefined) {
    netmaskPrefix = netmaskToPrefix(target.netmask, ip.family);
    if (netmaskPrefix === null) {
      throw new VipPlacementError(`virtual_addr ${addr}: invalid netmask '${target.netmask}'`);
    }
  }
  // Candidate subnets: every address of the VIP's family except the VIP itself (it may already be set).
  const containing = (l: IpLink) =>
    l.addrs.filter((a) => {
      if (a.family !== ip.family || canonicalIp(a.local) === addr) return false;
      const net = parseIp(a.local);
      return net !== null && inSubnet(ip.bytes, net.bytes, a.prefixLen);
    }).sort((x, y) => y.prefixLen - x.prefixLen);

  if (target.interfaceName !== undefined) {
    const link = links.find((l) => l.ifname === target.interfaceName);
    if (!link) {
      throw new VipPlacementError(`interface '${target.interfaceName}' (for VIP ${addr}) does not exist`);
    }
    const sub = containing(link)[0];
    const prefix = netmaskPrefix ?? sub?.prefixLen ??
      link.addrs.find((a) => a.family === ip.family && canonicalIp(a.local) !== addr)?.prefixLen;
    if (prefix === undefined) {
      throw new VipPlacementError(
        `interface '${link.ifname}' has no IPv${ip.family} address to take the netmask of VIP ${addr} from ` +
          `(set virtual_addr@netmask)`,
      );
    }
    return { ifname: link.ifname, family: ip.family, addr, prefixLen: prefix };
  }
  const matches = links
    .filter((l) => !l.loopback)
    .map((l) => ({ l, sub: containing(l)[0] }))
    .filter((m) => m.sub !== undefined)
    .sort((x, y) => y.sub!.prefixLen - x.sub!.prefixLen);
  if (matches.length === 0) {
    throw new VipPlacementError(
      `no interface has a subnet containing VIP ${addr} (set interface@name, or add an address of its subnet)`,
    );
  }
  if (matches.length > 1 && matches[0].sub!.prefixLen === matches[1].sub!.prefixLen) {
    throw new VipPlacementError(
      `VIP ${addr} is in the subnet of several interfaces (${
        matches.map((m) => m.l.ifname).join(", ")
      }): set interface@name`,
    );
  }
  const { l, sub } = matches[0];
  return { ifname: l.ifname, family: ip.family, addr, prefixLen: netmaskPrefix ?? sub!.prefixLen };
}
