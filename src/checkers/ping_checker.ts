// <ping> checker (spec §4.11): up when addr answers an ICMP echo within the timeout. The echo is sent from
// this process through libc (Deno FFI): an unprivileged ICMP datagram socket when net.ipv4.ping_group_range
// admits our group, else a raw socket (root or CAP_NET_RAW). Where neither opens (no FFI permission, no
// glibc, no privilege) or the address is not an IPv4 literal, the `ping` command (iputils) is used instead.
import { stripBrackets } from "../platform/local_addresses.ts";
import { errorText, PeriodicChecker, type ProbeResult } from "./checker.ts";

export type PingMethod = "auto" | "socket" | "command";
export type PingTarget = { readonly addr: string; readonly intervalMs: number; readonly timeoutMs: number };

export function pingChecker(resource: string, to: PingTarget, method: PingMethod = "auto"): PeriodicChecker {
  return new PeriodicChecker(
    resource,
    (signal) => ping(to.addr, signal, method),
    to.intervalMs,
    to.timeoutMs,
  );
}

/** One echo request; resolves when the reply arrives or `signal` aborts (its timeout). Never rejects. */
export async function ping(
  addr: string,
  signal: AbortSignal,
  method: PingMethod = "auto",
): Promise<ProbeResult> {
  const host = stripBrackets(addr);
  if (method !== "command") {
    const socket = parseIpv4(host) ? openIcmpSocket() : null;
    if (socket) return await icmpEcho(socket, parseIpv4(host)!, host, signal);
    if (method === "socket") return { up: false, detail: `no ICMP socket available for ${host}` };
  }
  return await pingCommand(host, signal);
}

export function parseIpv4(addr: string): Uint8Array | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr);
  if (!m) return null;
  const bytes = m.slice(1).map(Number);
  return bytes.every((b) => b <= 255) ? Uint8Array.from(bytes) : null;
}

/** The Internet checksum (RFC 1071) of an ICMP message. */
export function icmpChecksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    sum += (bytes[i] << 8) + (i + 1 < bytes.length ? bytes[i + 1] : 0);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function echoRequest(id: number, seq: number): Uint8Array {
  const msg = new Uint8Array(24);
  const v = new DataView(msg.buffer);
  v.setUint8(0, 8); // echo request
  v.setUint16(4, id);
  v.setUint16(6, seq);
  msg.set(new TextEncoder().encode("safekit-ping"), 8);
  v.setUint16(2, icmpChecksum(msg));
  return msg;
}

/**
 * Whether a received packet is the reply to our request. A raw socket sees the IP header and every ICMP
 * packet of the host (our own request too, on loopback); a datagram socket sees only its own ICMP messages,
 * with the identifier replaced by the kernel, so only the sequence number identifies the reply there.
 */
export function isEchoReply(packet: Uint8Array, raw: boolean, id: number, seq: number): boolean {
  const icmp = raw ? packet.subarray((packet[0] & 0x0f) * 4) : packet;
  if (icmp.length < 8 || icmp[0] !== 0) return false;
  const v = new DataView(icmp.buffer, icmp.byteOffset, icmp.byteLength);
  return v.getUint16(6) === seq && (!raw || v.getUint16(4) === id);
}

const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_RAW = 3;
const IPPROTO_ICMP = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const POLLIN = 1;
/** A stopped checker waits at most this long for its pending poll() to return. */
const POLL_SLICE_MS = 200;

const LIBC_SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  recvfrom: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "buffer"], result: "isize" },
  // poll runs on a worker thread, so waiting for a reply never blocks the event loop.
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  close: { parameters: ["i32"], result: "i32" },
} as const;

let libc: Deno.DynamicLibrary<typeof LIBC_SYMBOLS> | null | undefined;

function loadLibc(): Deno.DynamicLibrary<typeof LIBC_SYMBOLS> | null {
  if (libc === undefined) {
    try {
      libc = Deno.build.os === "linux" ? Deno.dlopen("libc.so.6", LIBC_SYMBOLS) : null;
    } catch {
      libc = null; // no --allow-ffi, or no glibc
    }
  }
  return libc;
}

type IcmpSocket = { readonly fd: number; readonly raw: boolean };

/** Which ICMP socket this process can open, if any. */
export function icmpSocketKind(): "datagram" | "raw" | null {
  const s = openIcmpSocket();
  if (!s) return null;
  loadLibc()!.symbols.close(s.fd);
  return s.raw ? "raw" : "datagram";
}

function openIcmpSocket(): IcmpSocket | null {
  const c = loadLibc();
  if (!c) return null;
  for (const type of [SOCK_DGRAM, SOCK_RAW]) {
    const fd = c.symbols.socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (fd >= 0) return { fd, raw: type === SOCK_RAW };
  }
  return null;
}

let nextSeq = Math.floor(Math.random() * 0xffff);

async function icmpEcho(
  sock: IcmpSocket,
  ip: Uint8Array,
  host: string,
  signal: AbortSignal,
): Promise<ProbeResult> {
  const c = loadLibc()!;
  const id = Math.floor(Math.random() * 0xffff);
  const seq = nextSeq = (nextSeq + 1) & 0xffff;
  try {
    const to = new Uint8Array(16);
    new DataView(to.buffer).setUint16(0, AF_INET, true);
    to.set(ip, 4);
    const req = echoRequest(id, seq);
    if (c.symbols.sendto(sock.fd, req, BigInt(req.length), 0, to, to.length) < 0) {
      return { up: false, detail: `cannot send an ICMP echo to ${host}` };
    }
    const pfd = new Uint8Array(8);
    const pv = new DataView(pfd.buffer);
    const buf = new Uint8Array(1500);
    const from = new Uint8Array(16);
    const fromLen = new Uint8Array(4);
    while (!signal.aborted) {
      pv.setInt32(0, sock.fd, true);
      pv.setInt16(4, POLLIN, true);
      pv.setInt16(6, 0, true);
      if (await c.symbols.poll(pfd, 1n, POLL_SLICE_MS) <= 0) continue;
      for (;;) {
        new DataView(fromLen.buffer).setUint32(0, from.length, true);
        const n = Number(c.symbols.recvfrom(sock.fd, buf, BigInt(buf.length), 0, from, fromLen));
        if (n < 0) break; // EAGAIN: drained
        const fromUs = from.subarray(4, 8).every((b, i) => b === ip[i]);
        if (fromUs && isEchoReply(buf.subarray(0, n), sock.raw, id, seq)) return { up: true };
      }
    }
    return { up: false, detail: `no ICMP echo reply from ${host}` };
  } finally {
    c.symbols.close(sock.fd);
  }
}

async function pingCommand(host: string, signal: AbortSignal): Promise<ProbeResult> {
  try {
    // -W is only a backstop: the signal (the checker's timeout) kills the command first.
    const out = await new Deno.Command("ping", {
      args: ["-n", "-c", "1", "-W", "30", host],
      stdout: "null",
      stderr: "piped",
      signal,
    }).output();
    if (out.success) return { up: true };
    const why = new TextDecoder().decode(out.stderr).trim();
    return { up: false, detail: `no echo reply from ${host}${why ? `: ${why}` : ""}` };
  } catch (e) {
    return { up: false, detail: `ping ${host}: ${errorText(e)}` };
  }
}
