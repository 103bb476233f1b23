// IPv4/IPv6 text to bytes and subnet membership: what interface detection and packet building need.
// Pure; an invalid address gives null, never a guess.

export type IpFamily = 4 | 6;

export function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  return new Uint8Array(parts.map(Number));
}

export function parseIpv6(text: string): Uint8Array | null {
  const t = text.split("%")[0];
  const halves = t.split("::");
  if (halves.length > 2) return null;
  const words = (s: string): number[] | null => {
    if (s === "") return [];
    const out: number[] = [];
    const groups = s.split(":");
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (i === groups.length - 1 && g.includes(".")) { // embedded IPv4 (::ffff:1.2.3.4)
        const v4 = parseIpv4(g);
        if (!v4) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(parseInt(g, 16));
      else return null;
    }
    return out;
  };
  const head = words(halves[0]);
  const tail = halves.length === 2 ? words(halves[1]) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((w, i) => {
    bytes[2 * i] = w >> 8;
    bytes[2 * i + 1] = w & 0xff;
  });
  return bytes;
}

export function parseIp(text: string): { family: IpFamily; bytes: Uint8Array } | null {
  const v4 = parseIpv4(text);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = parseIpv6(text);
  return v6 ? { family: 6, bytes: v6 } : null;
}

/** True when `addr` is inside `network/prefixLen` (both of the same family). */
export function inSubnet(addr: Uint8Array, network: Uint8Array, prefixLen: number): boolean {
  if (addr.length !== network.length || prefixLen < 0 || prefixLen > addr.length * 8) return false;
  for (let bit = 0; bit < prefixLen; bit++) {
    const mask = 0x80 >> (bit & 7);
    if ((addr[bit >> 3] & mask) !== (network[bit >> 3] & mask)) return false;
  }
  return true;
}

/** `255.255.255.0` or `24` to a prefix length; null for a non-contiguous or invalid mask. */
export function netmaskToPrefix(netmask: string, family: IpFamily): number | null {
  const max = family === 4 ? 32 : 128;
  if (/^\d{1,3}$/.test(netmask)) return Number(netmask) <= max ? Number(netmask) : null;
  if (family !== 4) return null;
  const b = parseIpv4(netmask);
  if (!b) return null;
  const v = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  const prefix = 32 - Math.log2(((~v) >>> 0) + 1);
  return Number.isInteger(prefix) ? prefix : null;
}

/** Canonical text, so two spellings of one IPv6 address compare equal. */
export function canonicalIp(text: string): string | null {
  const p = parseIp(text);
  if (!p) return null;
  if (p.family === 4) return [...p.bytes].join(".");
  // RFC 5952: lower case, the longest run (first on a tie) of two or more zero words becomes "::".
  const words = Array.from({ length: 8 }, (_, i) => (p.bytes[2 * i] << 8) | p.bytes[2 * i + 1]);
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(":");
  if (best.at < 0) return hex(words);
  return `${hex(words.slice(0, best.at))}::${hex(words.slice(best.at + best.len))}`;
}

export function parseMac(text: string): Uint8Array | null {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) return null;
  return new Uint8Array(parts.map((p) => parseInt(p, 16)));
}

export const formatMac = (mac: Uint8Array) => [...mac].map((b) => b.toString(16).padStart(2, "0")).join(":");
