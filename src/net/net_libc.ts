// libc through Deno FFI for what iproute2 cannot do from a script: raw sockets for gratuitous ARP and
// unsolicited neighbour advertisements. Opened lazily: only nodes that announce a VIP need --allow-ffi.

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  open: { parameters: ["buffer", "i32"], result: "i32" },
  setns: { parameters: ["i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | null = null;

export function libc() {
  lib ??= Deno.dlopen("libc.so.6", SYMBOLS);
  return lib.symbols;
}

/** errno is only meaningful right after a synchronous call on this thread (spike finding). */
export function errno(): number {
  return new Deno.UnsafePointerView(libc().__errno_location()!).getInt32(0);
}

export const AF_INET6 = 10;
export const AF_PACKET = 17;
export const SOCK_RAW = 3;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_ICMPV6 = 58;
export const IPV6_MULTICAST_IF = 17;
export const IPV6_MULTICAST_HOPS = 18;
const SIOCGIFINDEX = 0x8933n;
const SIOCGIFHWADDR = 0x8927n;
const O_RDONLY = 0;
const O_CLOEXEC = 0o2000000;
const CLONE_NEWNET = 0x40000000;

const cstr = (s: string) => new TextEncoder().encode(s + "\0");

function openFd(path: string): number {
  const fd = libc().open(cstr(path), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw new Error(`open ${path}: errno ${errno()}`);
  return fd;
}

/**
 * socket(2), in the named network namespace when `netns` is given. A socket stays in the namespace it
 * was created in, so only this call switches: setns(2) on the JS thread, socket, and back, all
 * synchronous so no other code runs meanwhile. Lets one test process drive several lab namespaces.
 */
export function openSocket(domain: number, type: number, protocol: number, netns?: string): number {
  const S = libc();
  if (netns === undefined) {
    const fd = S.socket(domain, type, protocol);
    if (fd < 0) throw new Error(`socket(${domain}, ${type}, ${protocol}): errno ${errno()}`);
    return fd;
  }
  if (!/^[\w.-]+$/.test(netns)) throw new Error(`invalid network namespace name '${netns}'`);
  const home = openFd("/proc/thread-self/ns/net");
  let target: number;
  try {
    target = openFd(`/run/netns/${netns}`);
  } catch (e) {
    S.close(home);
    throw e;
  }
  try {
    if (S.setns(target, CLONE_NEWNET) !== 0) throw new Error(`setns ${netns}: errno ${errno()}`);
    const fd = S.socket(domain, type, protocol);
    const socketErrno = fd < 0 ? errno() : 0;
    // Staying in the lab namespace would silently move every later socket of this thread there.
    if (S.setns(home, CLONE_NEWNET) !== 0) {
      if (fd >= 0) S.close(fd);
      throw new Error(`cannot return to the original network namespace: errno ${errno()}`);
    }
    if (fd < 0) throw new Error(`socket in ${netns}: errno ${socketErrno}`);
    return fd;
  } finally {
    S.close(target);
    S.close(home);
  }
}

function ifreq(ifname: string): Uint8Array {
  const name = new TextEncoder().encode(ifname);
  if (name.length === 0 || name.length > 15) throw new Error(`invalid interface name '${ifname}'`);
  const req = new Uint8Array(40); // struct ifreq
  req.set(name, 0);
  return req;
}

/** Index and MAC of an interface, asked through the socket so they come from the socket's namespace. */
export function interfaceInfo(fd: number, ifname: string): { index: number; mac: Uint8Array } {
  const S = libc();
  const r1 = ifreq(ifname);
  if (S.ioctl(fd, SIOCGIFINDEX, r1) !== 0) throw new Error(`no interface '${ifname}' (errno ${errno()})`);
  const index = new DataView(r1.buffer).getInt32(16, true);
  const r2 = ifreq(ifname);
  if (S.ioctl(fd, SIOCGIFHWADDR, r2) !== 0) throw new Error(`no hardware address for '${ifname}'`);
  return { index, mac: r2.slice(18, 24) }; // ifr_hwaddr: sa_family (2 bytes) then sa_data
}

export const htons = (v: number) => ((v & 0xff) << 8) | ((v >> 8) & 0xff);
