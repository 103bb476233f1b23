// <intf> checker (spec §4.11): up while the network interface holding local_addr has its link up and a
// carrier. The interface is found by address each time, so a renamed or re-created interface is followed.
import { stripBrackets } from "../platform/local_addresses.ts";
import {
  DEFAULT_INTERVAL_MS,
  DEFAULT_TIMEOUT_MS,
  errorText,
  PeriodicChecker,
  type ProbeResult,
} from "./checker.ts";

export type InterfaceLister = () => readonly { readonly name: string; readonly address: string }[];

export function intfChecker(
  resource: string,
  localAddr: string,
  opts: { intervalMs?: number; sysClassNet?: string; interfaces?: InterfaceLister } = {},
): PeriodicChecker {
  return new PeriodicChecker(
    resource,
    () =>
      intfProbe(localAddr, opts.sysClassNet ?? "/sys/class/net", opts.interfaces ?? Deno.networkInterfaces),
    opts.intervalMs ?? DEFAULT_INTERVAL_MS,
    DEFAULT_TIMEOUT_MS,
  );
}

export function interfaceOf(addr: string, interfaces: ReturnType<InterfaceLister>): string | null {
  const a = stripBrackets(addr);
  return interfaces.find((i) => i.address.split("%")[0] === a)?.name ?? null;
}

/**
 * Link state from sysfs. Loopback and some virtual links report operstate "unknown" and have no carrier
 * notion of their own: "unknown" counts as up when the carrier is present, as the kernel itself treats it.
 */
export function linkStatus(operstate: string, carrier: string | null): ProbeResult {
  const op = operstate.trim();
  if (op !== "up" && op !== "unknown") return { up: false, detail: `link is ${op}` };
  if (carrier?.trim() !== "1") return { up: false, detail: "no carrier" };
  return { up: true };
}

export async function intfProbe(
  localAddr: string,
  sysClassNet: string,
  interfaces: InterfaceLister,
): Promise<ProbeResult> {
  const name = interfaceOf(localAddr, interfaces());
  if (!name) return { up: false, detail: `no interface holds ${localAddr}` };
  try {
    const operstate = await Deno.readTextFile(`${sysClassNet}/${name}/operstate`);
    // Reading carrier fails (EINVAL) while the link is administratively down.
    const carrier = await Deno.readTextFile(`${sysClassNet}/${name}/carrier`).catch(() => null);
    const s = linkStatus(operstate, carrier);
    return s.up ? s : { up: false, detail: `interface ${name}: ${s.detail}` };
  } catch (e) {
    return { up: false, detail: `interface ${name}: ${errorText(e)}` };
  }
}
