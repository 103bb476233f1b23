// Path traversal on every file-like route family: the console, Swagger UI, the health probe, and every
// API route that takes a name in its path (module, node, resource...). Sent as raw bytes over a real
// socket, so neither fetch nor the URL parser cleans the path up before the server sees it.
import assert from "node:assert/strict";
import { routeTableOf } from "../../../src/web/app.ts";
import { makeNodeApp, type NodeAppFixture } from "./node_app_fixture.ts";

const HOST = "127.0.0.51";

/** Ways of writing "go up" that servers have been fooled by. */
const ESCAPES = [
  "..",
  "../..",
  "%2e%2e",
  "%2e%2e%2f%2e%2e",
  "..%2f..%2f..%2fetc%2fpasswd",
  "%252e%252e%252f%252e%252e",
  "..%252f..%252fetc%252fpasswd",
  "..\\..\\..\\etc\\passwd",
  "..%5c..%5cetc%5cpasswd",
  "%c0%ae%c0%ae%c0%afetc",
  "valid%00..",
  "m1%00.xml",
  "....//....//etc/passwd",
];

/** Static and probe families: a prefix, and what follows the escape. */
const FAMILIES = [
  { prefix: "/console/", suffix: "/etc/passwd" },
  { prefix: "/swagger-ui/", suffix: "/etc/passwd" },
  { prefix: "/var/modules/", suffix: "/ready.txt" },
  { prefix: "/var/modules/", suffix: "/../../../../etc/passwd" },
];

type RawAnswer = { status: number; head: string; body: string };

/** One HTTP/1.1 request written byte for byte; the answer read until the server closes. */
async function raw(port: number, target: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const conn = await Deno.connect({ hostname: HOST, port });
  try {
    const lines = [`GET ${target} HTTP/1.1`, `Host: ${HOST}:${port}`, "Connection: close"];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    await conn.write(new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n"));
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
    const text = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
    const [head, ...rest] = text.split("\r\n\r\n");
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
    return { status, head, body: rest.join("\r\n\r\n") };
  } finally {
    try {
      conn.close();
    } catch { /* closed by the server */ }
  }
}

async function withServedApp(fn: (f: NodeAppFixture, port: number) => Promise<void>): Promise<void> {
  const f = await makeNodeApp();
  const server = Deno.serve(
    { hostname: HOST, port: 0, onListen() {} },
    (req, info) =>
      f.service.app.fetch(req, { transport: { kind: "tcp", remoteAddr: info.remoteAddr.hostname } }),
  );
  try {
    await fn(f, server.addr.port);
  } finally {
    await server.shutdown();
    await f.cleanup();
  }
}

/** What must never be seen in an answer: a file from outside the node's assets. */
function leaks(body: string): boolean {
  return /root:.*:0:0:|\[boot loader\]|BEGIN (EC |RSA )?PRIVATE KEY|"format": "safekit-users-1"/.test(body);
}

Deno.test("path traversal: the console, Swagger UI and probe families refuse every escape, over a real socket", async () => {
  await withServedApp(async (_f, port) => {
    const wrong: string[] = [];
    for (const { prefix, suffix } of FAMILIES) {
      for (const escape of ESCAPES) {
        const target = prefix + escape + suffix;
        const a = await raw(port, target);
        // 400 (the server refuses the request line) or 404 (no such asset) are both fine; anything served
        // with 200, an error 5xx, or a leaked file is not.
        if (a.status < 400 || a.status >= 500 || leaks(a.body)) wrong.push(`${target} -> ${a.status}`);
      }
    }
    assert.deepEqual(wrong, []);
    // The families themselves still work, so the refusals above are not just a dead server.
    assert.equal((await raw(port, "/console/app.css")).status, 200);
    assert.equal((await raw(port, "/swagger-ui/init.js")).status, 200);
    assert.equal((await raw(port, "/var/modules/m1/ready.txt")).status, 404);
  });
});

Deno.test("path traversal: every API route with a name in its path refuses every escape (as Admin)", async () => {
  await withServedApp(async (f, port) => {
    const s = await f.session("admin");
    const headers = { cookie: s.cookie };
    const wrong: string[] = [];
    let checked = 0;
    // Reads only: an escape must not reach a file; state-changing routes are refused by role in the sweep
    // and look names up the same way (s.modules.get) before any file is touched.
    for (const r of routeTableOf(f.service.app)) {
      if (r.method !== "get" || !r.path.includes("{")) continue;
      for (const escape of ESCAPES) {
        checked++;
        const target = "/api/v1" + r.path.replace(/\{(\w+)\}/g, escape);
        const a = await raw(port, target, headers);
        if (a.status < 400 || a.status >= 500 || leaks(a.body)) {
          wrong.push(`${target} -> ${a.status} ${a.body}`);
        }
      }
    }
    assert.ok(checked > 50, `only ${checked} requests`);
    assert.deepEqual(wrong, []);
  });
});

Deno.test("path traversal: a NUL byte or raw backslash in the request line is refused, never served", async () => {
  await withServedApp(async (_f, port) => {
    for (const target of ["/console/app.css\u0000.js", "/console\\..\\..\\etc\\passwd", "/console/%00"]) {
      const a = await raw(port, target);
      assert.ok(a.status >= 400 && a.status < 500, `${JSON.stringify(target)} -> ${a.status}`);
      assert.ok(!leaks(a.body));
    }
  });
});
