// Makes a device accept frames sent to the farm's virtual MAC (spec §8 vmac_invisible: "NICs in promiscuous
// mode"). The closest equivalent on Linux that does not make every NIC promiscuous: add the virtual MAC to
// the device's unicast address list (`bridge fdb add <mac> dev <dev> self permanent`, the kernel's
// ndo_dflt_fdb_add → dev_uc_add). A NIC with a hardware unicast filter then accepts exactly that extra
// MAC; a NIC without one is put in promiscuous mode by the kernel itself (uc_promisc). Only when the
// device refuses the entry do we fall back to `ip link set dev <dev> promisc on`, and we switch
// promiscuity off again only if we were the ones who switched it on.

import { type HostCommands, runChecked } from "./host_commands.ts";
import { formatMac, parseMac } from "./ip_address.ts";

export type MacAcceptance = {
  readonly device: string;
  readonly mac: string;
  /** unicast-filter: the MAC is in the device's address list; promiscuous: we set IFF_PROMISC; none: it was already set */
  readonly how: "unicast-filter" | "promiscuous" | "already-promiscuous";
};

export class MacAcceptanceError extends Error {}

function checked(device: string, mac: string): string {
  if (!/^[\w.:-]{1,15}$/.test(device)) throw new MacAcceptanceError(`invalid interface name '${device}'`);
  const m = parseMac(mac);
  if (!m) throw new MacAcceptanceError(`invalid MAC '${mac}'`);
  return formatMac(m);
}

/** `bridge` arguments adding (replace: idempotent) or deleting the unicast address entry. */
export const unicastFilterArgs = (op: "replace" | "del", device: string, mac: string) =>
  op === "replace"
    ? ["fdb", "replace", checked(device, mac), "dev", device, "self", "permanent"]
    : ["fdb", "del", checked(device, mac), "dev", device, "self"];

/** Is IFF_PROMISC set on the device (from `ip -j link show dev X`)? */
export function promiscuousFromIpLinkJson(text: string): boolean {
  const links = JSON.parse(text) as { flags?: string[] }[];
  return (links[0]?.flags ?? []).includes("PROMISC");
}

export async function isPromiscuous(host: HostCommands, device: string): Promise<boolean> {
  return promiscuousFromIpLinkJson(await runChecked(host, "ip", ["-j", "link", "show", "dev", device]));
}

/** The device accepts frames to `mac` once this resolves; keep the result to undo it. */
export async function acceptVirtualMac(
  host: HostCommands,
  device: string,
  mac: string,
): Promise<MacAcceptance> {
  const canonical = checked(device, mac);
  const fdb = await host.run("bridge", unicastFilterArgs("replace", device, canonical));
  if (fdb.code === 0) return { device, mac: canonical, how: "unicast-filter" };
  if (await isPromiscuous(host, device)) return { device, mac: canonical, how: "already-promiscuous" };
  await runChecked(host, "ip", ["link", "set", "dev", device, "promisc", "on"]);
  return { device, mac: canonical, how: "promiscuous" };
}

/** Undoes acceptVirtualMac; a device or entry that is already gone is not an error. */
export async function releaseVirtualMac(host: HostCommands, a: MacAcceptance): Promise<void> {
  if (a.how === "unicast-filter") {
    const r = await host.run("bridge", unicastFilterArgs("del", a.device, a.mac));
    if (r.code !== 0 && !/No such file|Cannot find device|not found/i.test(r.stderr)) {
      throw new MacAcceptanceError(`cannot remove ${a.mac} from ${a.device}: ${r.stderr.trim()}`);
    }
  } else if (a.how === "promiscuous") {
    const r = await host.run("ip", ["link", "set", "dev", a.device, "promisc", "off"]);
    if (r.code !== 0 && !/Cannot find device/i.test(r.stderr)) {
      throw new MacAcceptanceError(`cannot switch promiscuous mode off on ${a.device}: ${r.stderr.trim()}`);
    }
  }
}

/** The device's unicast address list as `bridge fdb show dev X` prints it ("<mac> self permanent"). */
export async function deviceUnicastAddresses(host: HostCommands, device: string): Promise<string[]> {
  const out = await runChecked(host, "bridge", ["fdb", "show", "dev", device]);
  return out.split("\n").filter((l) => / self permanent/.test(l)).map((l) => l.split(" ")[0])
    .filter((m) => (parseInt(m.slice(0, 2), 16) & 1) === 0); // unicast only (multicast entries are listed too)
}
