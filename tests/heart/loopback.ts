// Binds test sockets on distinct loopback addresses like separate nodes (127.0.0.2, 127.0.0.3). Linux routes
// all of 127.0.0.0/8 to lo; macOS only has 127.0.0.1 unless aliases are added, so there we fall back to
// 127.0.0.1 with distinct ephemeral ports, which the protocol handles the same way.
import { openUdpTransport, type UdpTransport } from "../../src/heart/udp_transport.ts";

export async function openLoopback(addr: string): Promise<UdpTransport> {
  try {
    return await openUdpTransport({ addr, port: 0 });
  } catch (error) {
    if ((error as { code?: string }).code !== "EADDRNOTAVAIL") throw error;
    console.warn(`cannot bind ${addr} on this platform; falling back to 127.0.0.1`);
    return await openUdpTransport({ addr: "127.0.0.1", port: 0 });
  }
}
