// Address syntax of cluster.xml and userconfig.xml: IPv4, IPv6 literal in brackets, or a host name.
// A bare IPv6 literal is refused because SafeKit requires brackets (spec §4.1) and a colon-separated
// value is ambiguous with host:port in the distributed commands.

export type AddressCheck = { readonly ok: true } | { readonly ok: false; readonly expected: string };

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$/;

export function isIpv4(text: string): boolean {
  return IPV4.test(text);
}

export function isIpv6(text: string): boolean {
  if (!/^[0-9A-Fa-f:.]+(%[\w.-]+)?$/.test(text) || !text.includes(":")) return false;
  try {
    new URL(`http://[${text.replace(/%.*$/, "")}]/`);
    return true;
  } catch {
    return false;
  }
}

/** For cluster.xml addresses: IPv4, [IPv6] or host name. */
export function checkNodeAddress(text: string): AddressCheck {
  if (isIpv4(text)) return { ok: true };
  if (text.startsWith("[") && text.endsWith("]") && isIpv6(text.slice(1, -1))) return { ok: true };
  if (isIpv6(text)) return { ok: false, expected: "an IPv6 literal in brackets, like [2001::7334]" };
  if (/^\d+(\.\d+)*$/.test(text)) return { ok: false, expected: "an IPv4 address like 192.168.1.67" };
  if (HOST_NAME.test(text)) return { ok: true };
  return { ok: false, expected: "an IPv4 address, an IPv6 literal in brackets or a host name" };
}

/** For userconfig.xml addresses (VIPs, checker targets): IPv4, IPv6 with or without brackets, or name. */
export function checkServiceAddress(text: string): AddressCheck {
  if (isIpv4(text) || isIpv6(text)) return { ok: true };
  if (text.startsWith("[") && text.endsWith("]") && isIpv6(text.slice(1, -1))) return { ok: true };
  if (/^\d+(\.\d+)*$/.test(text)) return { ok: false, expected: "an IPv4 address like 192.168.1.222" };
  if (HOST_NAME.test(text)) return { ok: true };
  return { ok: false, expected: "an IPv4 address, an IPv6 address or a host name" };
}
