import assert from "node:assert/strict";
import { tcpChecker } from "../../src/checkers/tcp_checker.ts";

Deno.test("tcp checker: up while a listener accepts on addr:port, down once it is closed", async () => {
  const addr = "127.0.0.21";
  let listener: Deno.TcpListener | null = Deno.listen({ hostname: addr, port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  (async () => {
    for await (const conn of listener!) conn.close();
  })().catch(() => {});
  const seen: string[] = [];
  const c = tcpChecker("tcp.web", { addr, port, intervalMs: 50, timeoutMs: 1000 });
  c.start((r, v, detail) => seen.push(`${r}=${v}${detail ? ` (${detail})` : ""}`));
  try {
    while (seen.length < 1) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(seen, ["tcp.web=up"]);
    listener.close();
    listener = null;
    while (seen.length < 2) await new Promise((r) => setTimeout(r, 10));
    assert.match(seen[1], new RegExp(`^tcp\\.web=down \\(cannot connect to ${addr}:${port}: `));
  } finally {
    await c.stop();
    listener?.close();
  }
});
