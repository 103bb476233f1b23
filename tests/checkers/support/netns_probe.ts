// Runs one checker probe and prints its result as JSON: started by the tests with `ip netns exec <ns>`, so
// the probe sees that namespace's interfaces and routes (ICMP sockets, /sys/class/net, addresses).
import { intfProbe } from "../../../src/checkers/intf_checker.ts";
import { ipProbe } from "../../../src/checkers/ip_checker.ts";
import { ping, type PingMethod } from "../../../src/checkers/ping_checker.ts";
import { probeWithin } from "../../../src/checkers/checker.ts";

const req = JSON.parse(Deno.args[0]) as
  | { kind: "ping"; addr: string; method: PingMethod; timeoutMs: number }
  | { kind: "intf"; localAddr: string }
  | { kind: "ip"; addr: string };

const result = req.kind === "ping"
  ? await probeWithin((signal) => ping(req.addr, signal, req.method), req.timeoutMs)
  : req.kind === "intf"
  ? await intfProbe(req.localAddr, "/sys/class/net", Deno.networkInterfaces)
  : ipProbe(req.addr, Deno.networkInterfaces());
console.log(JSON.stringify(result));
// A ping cut by its timeout may still wait in poll(): do not let it hold the process.
Deno.exit(0);
