// virtual_addr@connections (spec §4.6): how many TCP connections this node holds on a VIP, for the resource
// `connections.<vip>` refreshed every 10 s. A connection counts while it is established with the VIP as
// its local address (what a client opened to the VIP, or what the node opened from it); listening sockets
// and half-closed ones do not. On a farm each node counts its own share.

import { type HostCommands, runChecked } from "./host_commands.ts";
import { canonicalIp, parseIp } from "./ip_address.ts";

/** The resource name: `connections.<vip>` with the VIP as configured (spec §4.6). */
export const connectionsResourceName = (vip: string) => `connections.${vip}`;

/** `ss` arguments listing the established TCP sockets whose local address is the VIP, one per line. */
export function connectionsSsArgs(vip: string): string[] {
  const c = canonicalIp(vip);
  if (!c) throw new Error(`'${vip}' is not an IP address`);
  return ["-H", "-t", "-n", "state", "established", "src", parseIp(c)!.family === 6 ? `[${c}]` : c];
}

/** Counts the sockets in `ss -H -t -n` output whose local address is the VIP (the filter is re-checked). */
export function countConnections(ssOutput: string, vip: string): number {
  const want = canonicalIp(vip);
  let n = 0;
  for (const line of ssOutput.split("\n")) {
    const cols = line.trim().split(/\s+/);
    // established listing without a State column: Recv-Q Send-Q Local:Port Peer:Port [Process]
    const local = cols.length >= 4 ? cols[2] : "";
    const addr = local.replace(/:\d+$/, "").replace(/^\[|\]$/g, "").replace(/%.*$/, "");
    if (addr && canonicalIp(addr) === want) n++;
  }
  return n;
}

export async function vipConnections(host: HostCommands, vip: string): Promise<number> {
  return countConnections(await runChecked(host, "ss", connectionsSsArgs(vip)), vip);
}
