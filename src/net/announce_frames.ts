// The bytes of a gratuitous ARP (IPv4) and of an unsolicited neighbour advertisement (IPv6). Pure.

export const ETH_P_ARP = 0x0806;
export type GarpMode = "request" | "reply";

/**
 * Ethernet + ARP frame (42 bytes) announcing `ip` is-at `advertisedMac`. The Ethernet source is always the
 * interface's own MAC: bridges and switches drop or mislearn frames from a virtual or multicast source.
 * Request form: sender ip == target ip, target MAC zero. Reply form: Linux (arp_is_garp) only treats it
 * as gratuitous when target MAC == sender MAC.
 */
export function garpFrame(
  ifMac: Uint8Array,
  ip: Uint8Array,
  mode: GarpMode,
  advertisedMac: Uint8Array = ifMac,
): Uint8Array {
  if (ifMac.length !== 6 || advertisedMac.length !== 6 || ip.length !== 4) {
    throw new RangeError("bad MAC or IPv4");
  }
  const f = new Uint8Array(42);
  const dv = new DataView(f.buffer);
  f.fill(0xff, 0, 6);
  f.set(ifMac, 6);
  dv.setUint16(12, ETH_P_ARP);
  dv.setUint16(14, 1); // hardware type: Ethernet
  dv.setUint16(16, 0x0800); // protocol type: IPv4
  f[18] = 6;
  f[19] = 4;
  dv.setUint16(20, mode === "reply" ? 2 : 1);
  f.set(advertisedMac, 22);
  f.set(ip, 28);
  f.set(mode === "reply" ? advertisedMac : new Uint8Array(6), 32);
  f.set(ip, 38);
  return f;
}

/**
 * ICMPv6 neighbour advertisement body (type 136, 32 bytes) for an unsolicited announce: Override set,
 * Solicited clear, target link-layer address option. The kernel fills the checksum (raw ICMPv6 socket).
 */
export function unsolicitedNa(target: Uint8Array, mac: Uint8Array): Uint8Array {
  if (target.length !== 16 || mac.length !== 6) throw new RangeError("bad IPv6 or MAC");
  const m = new Uint8Array(32);
  m[0] = 136;
  m[4] = 0x20; // O flag
  m.set(target, 8);
  m[24] = 2; // option: target link-layer address
  m[25] = 1; // length in units of 8 bytes
  m.set(mac, 26);
  return m;
}
