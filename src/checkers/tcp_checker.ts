// <tcp> checker (spec §4.11): up when a TCP connection to addr:port opens within the timeout.
import { stripBrackets } from "../platform/local_addresses.ts";
import { errorText, PeriodicChecker, type ProbeResult } from "./checker.ts";

export type TcpTarget = {
  readonly addr: string;
  readonly port: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
};

export function tcpChecker(resource: string, to: TcpTarget): PeriodicChecker {
  return new PeriodicChecker(
    resource,
    (signal) => tcpProbe(to.addr, to.port, signal),
    to.intervalMs,
    to.timeoutMs,
  );
}

export async function tcpProbe(addr: string, port: number, signal: AbortSignal): Promise<ProbeResult> {
  try {
    const conn = await Deno.connect({ hostname: stripBrackets(addr), port, signal });
    conn.close();
    return { up: true };
  } catch (e) {
    return { up: false, detail: `cannot connect to ${addr}:${port}: ${errorText(e)}` };
  }
}
