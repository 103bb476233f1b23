// <ip> checker (spec §4.11): up while the address (usually a virtual IP) is configured on a local interface.
// The 127.0.0.0/8 range counts only where an interface lists it: a VIP must really be set to be up.
import { stripBrackets } from "../platform/local_addresses.ts";
import { DEFAULT_TIMEOUT_MS, PeriodicChecker, type ProbeResult } from "./checker.ts";
import type { InterfaceLister } from "./intf_checker.ts";

export function ipChecker(
  resource: string,
  to: { readonly addr: string; readonly intervalMs: number },
  interfaces: InterfaceLister = Deno.networkInterfaces,
): PeriodicChecker {
  return new PeriodicChecker(
    resource,
    () => Promise.resolve(ipProbe(to.addr, interfaces())),
    to.intervalMs,
    DEFAULT_TIMEOUT_MS,
  );
}

export function ipProbe(addr: string, interfaces: ReturnType<InterfaceLister>): ProbeResult {
  const a = stripBrackets(addr);
  const on = interfaces.find((i) => i.address.split("%")[0] === a);
  return on ? { up: true } : { up: false, detail: `${a} is not configured on any interface` };
}
