// Which addresses belong to this host. The whole 127.0.0.0/8 range and ::1 are local on Linux without
// being listed on an interface, which is what lets several nodes run side by side on one host.

export function isLoopback(addr: string): boolean {
  const a = stripBrackets(addr);
  return a === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a) || a === "localhost";
}

export function stripBrackets(addr: string): string {
  return addr.startsWith("[") && addr.endsWith("]") ? addr.slice(1, -1) : addr;
}

export function interfaceAddresses(): Set<string> {
  const out = new Set<string>();
  try {
    for (const i of Deno.networkInterfaces()) out.add(i.address.split("%")[0]);
  } catch { /* no --allow-sys: loopback rules still apply */ }
  return out;
}

export function isLocalAddress(addr: string, known: Set<string> = interfaceAddresses()): boolean {
  return isLoopback(addr) || known.has(stripBrackets(addr));
}
