import { openUdpTransport } from "../../src/heart/udp_transport.ts";
import { openLoopback } from "./loopback.ts";
import { transportConformance } from "./transport_conformance.ts";

transportConformance("udp ipv4", async () => {
  const a = await openLoopback("127.0.0.2");
  const b = await openLoopback("127.0.0.3");
  return { a, b, dispose: async () => void await Promise.all([a.close(), b.close()]) };
});

transportConformance("udp ipv6", async () => {
  const a = await openUdpTransport({ addr: "[::1]", port: 0 });
  const b = await openUdpTransport({ addr: "::1", port: 0 });
  return { a, b, dispose: async () => void await Promise.all([a.close(), b.close()]) };
});
