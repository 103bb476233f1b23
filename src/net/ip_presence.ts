// Is an address configured on a local interface: the probe of the ip checker `ip.<vip>` (spec §4.6
// virtual_addr@check) when it must see the namespace's real interfaces through iproute2 rather than
// Deno.networkInterfaces (which skips interfaces that are down and cannot run inside another namespace).

import { type HostCommands, runChecked } from "./host_commands.ts";
import { findAddress, parseIpAddrJson, type VipPlacement } from "./ip_links.ts";

export async function readLinks(host: HostCommands) {
  return parseIpAddrJson(await runChecked(host, "ip", ["-j", "addr", "show"]));
}

export type AddressPresence =
  | { readonly present: true; readonly where: VipPlacement }
  | { readonly present: false; readonly detail: string };

export async function addressPresence(host: HostCommands, addr: string): Promise<AddressPresence> {
  const where = findAddress(await readLinks(host), addr);
  return where
    ? { present: true, where }
    : { present: false, detail: `${addr} is not configured on any interface` };
}
