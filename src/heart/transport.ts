// The narrow interface between the heartbeat protocol and the network. Two implementations pass one
// conformance suite (tests/heart/transport_conformance.ts): the real one over UDP (udp_transport.ts) and an
// in-memory one for the deterministic simulator (tests/sim/memory_transport.ts).

/** An IPv4 or IPv6 literal (brackets optional for IPv6) and a UDP port. */
export type Endpoint = { readonly addr: string; readonly port: number };

export type ReceiveHandler = (from: Endpoint, bytes: Uint8Array) => void;

export interface DatagramTransport {
  /** Where this transport is bound (after an ephemeral port was chosen, the real port). */
  readonly local: Endpoint;
  /** Best effort, like UDP: never throws, never blocks; a lost or undeliverable datagram is just gone. */
  send(to: Endpoint, bytes: Uint8Array): void;
  /** Replaces the previous handler. Each datagram arrives whole, as its own Uint8Array. */
  onReceive(handler: ReceiveHandler): void;
  /** Stops receiving and frees the socket; idempotent; sends after close are dropped. */
  close(): Promise<void>;
}

/** "[2001:db8::1]" → "2001:db8::1"; cluster.xml writes IPv6 literals in brackets (spec §4.1). */
export function bareAddress(addr: string): string {
  return addr.startsWith("[") && addr.endsWith("]") ? addr.slice(1, -1) : addr;
}

export function isIPv6(addr: string): boolean {
  return bareAddress(addr).includes(":");
}

export function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.port === b.port && bareAddress(a.addr).toLowerCase() === bareAddress(b.addr).toLowerCase();
}
