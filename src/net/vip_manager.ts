// Adds and removes a virtual IP on this node's interface with iproute2 (spec §4.6). Both are idempotent:
// adding a VIP already set, or removing one that is absent, changes nothing and says so.

import { type HostCommands, runChecked } from "./host_commands.ts";
import { findAddress, placeVip, type VipPlacement, type VipTarget } from "./ip_links.ts";
import { readLinks } from "./ip_presence.ts";

export type VipChange = { readonly changed: boolean; readonly placement: VipPlacement | null };

export async function addVip(host: HostCommands, target: VipTarget): Promise<VipChange> {
  const links = await readLinks(host);
  const existing = findAddress(links, target.addr);
  if (existing) return { changed: false, placement: existing };
  const p = placeVip(target, links);
  // IPv6: no duplicate address detection, or the VIP stays "tentative" (unusable) for a second or more
  // after a failover; the peer that held it has just removed it.
  const extra = p.family === 6 ? ["nodad"] : [];
  await runChecked(host, "ip", ["addr", "add", `${p.addr}/${p.prefixLen}`, "dev", p.ifname, ...extra]);
  return { changed: true, placement: p };
}

export type TcpResetResult = {
  /** connected sockets bound to the VIP before the reset */
  readonly before: number;
  /** still there after `ss -K`: non-zero when the kernel lacks CONFIG_INET_DIAG_DESTROY */
  readonly remaining: number;
};

export type VipRemoval = VipChange & { readonly tcpReset?: TcpResetResult };

export async function removeVip(
  host: HostCommands,
  addr: string,
  opts: { readonly tcpReset: boolean },
): Promise<VipRemoval> {
  const existing = findAddress(await readLinks(host), addr);
  if (!existing) return { changed: false, placement: null };
  // Reset first (vip@tcpreset): once the address is gone the sockets can no longer send their RST, and
  // clients would hang until their own timeout instead of reconnecting to the new primary at once.
  const tcpReset = opts.tcpReset ? await resetConnections(host, existing.addr) : undefined;
  await runChecked(host, "ip", [
    "addr",
    "del",
    `${existing.addr}/${existing.prefixLen}`,
    "dev",
    existing.ifname,
  ]);
  return { changed: true, placement: existing, tcpReset };
}

const ssAddr = (addr: string) => (addr.includes(":") ? `[${addr}]` : addr);

async function countConnected(host: HostCommands, addr: string): Promise<number> {
  const out = await runChecked(host, "ss", ["-H", "-t", "-n", "state", "connected", "src", ssAddr(addr)]);
  return out.split("\n").filter((l) => l.trim() !== "").length;
}

/**
 * Kills the TCP sockets whose local address is `addr` (`ss -K`, SOCK_DESTROY; the kernel sends an RST to
 * the peer). Listening sockets are left alone: the application owns them. Without
 * CONFIG_INET_DIAG_DESTROY `ss -K` silently does nothing; `remaining` then tells the caller.
 */
export async function resetConnections(host: HostCommands, addr: string): Promise<TcpResetResult> {
  const before = await countConnected(host, addr);
  if (before === 0) return { before, remaining: 0 };
  await host.run("ss", ["-K", "-H", "-t", "-n", "state", "connected", "src", ssAddr(addr)]);
  return { before, remaining: await countConnected(host, addr) };
}
