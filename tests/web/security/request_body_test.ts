// Bodies are bounded and typed before any handler sees them: too large -> 413 without reading it all, the
// wrong Content-Type on a JSON route -> 415, malformed JSON -> 400 naming what is wrong.
import assert from "node:assert/strict";
import { MAX_SMALL_BODY_BYTES, maxBodyBytesOf, routeTableOf } from "../../../src/web/app.ts";
import { makeNodeApp, type NodeAppFixture, ORIGIN } from "./node_app_fixture.ts";

/** A body that never ends, counting what the server pulled from it. */
function endlessBody(chunkBytes = 64 * 1024): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  const chunk = new Uint8Array(chunkBytes).fill(0x20);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled += chunk.length;
      controller.enqueue(chunk);
    },
  });
  return { stream, pulled: () => pulled };
}

async function adminHeaders(f: NodeAppFixture, extra: Record<string, string> = {}) {
  const s = await f.session("admin");
  return { cookie: s.cookie, "x-csrf-token": s.csrf, origin: ORIGIN, ...extra };
}

function tableRoutes(f: NodeAppFixture) {
  return routeTableOf(f.service.app).map((r) => ({
    route: r,
    url: (r.absolutePath ?? "/api/v1" + r.path).replace(/\{(\w+)\}/g, "sweep_$1"),
    method: r.method.toUpperCase(),
  }));
}

Deno.test("body: an endless upload to a JSON route is cut at the small-body limit with 413", async () => {
  const f = await makeNodeApp();
  try {
    const body = endlessBody();
    const res = await f.fetch("/api/v1/modules/m1/log", {
      method: "POST",
      headers: await adminHeaders(f, { "content-type": "application/json" }),
      body: body.stream,
      // @ts-ignore: Deno's RequestInit takes duplex for streamed bodies
      duplex: "half",
    });
    assert.equal(res.status, 413);
    assert.match((await res.json()).error, /request body too large \(more than 4194304 bytes\)/);
    // Reading stopped near the limit: the endless body was not buffered (the stream may read ahead a little).
    assert.ok(body.pulled() <= MAX_SMALL_BODY_BYTES + 4 * 64 * 1024, `pulled ${body.pulled()} bytes`);
  } finally {
    await f.cleanup();
  }
});

Deno.test("body: a declared Content-Length over the route's limit is refused before reading, on every route", async () => {
  const f = await makeNodeApp();
  try {
    const headers = await adminHeaders(f);
    const wrong: string[] = [];
    for (const { route, url, method } of tableRoutes(f)) {
      if (method === "GET") continue;
      const body = endlessBody();
      const res = await f.fetch(url, {
        method,
        headers: {
          ...headers,
          "content-type": route.requestBody === "json"
            ? "application/json"
            : route.requestBody === "text"
            ? "text/plain"
            : "application/octet-stream",
          "content-length": String(maxBodyBytesOf(route) + 1),
        },
        body: body.stream,
        // @ts-ignore: see above
        duplex: "half",
      });
      await res.body?.cancel();
      if (res.status !== 413 || body.pulled() > 256 * 1024) {
        wrong.push(`${method} ${url} -> ${res.status}, ${body.pulled()} bytes read`);
      }
    }
    assert.deepEqual(wrong, []);
  } finally {
    await f.cleanup();
  }
});

Deno.test("body: an anonymous upload is refused with 401 before its body is read", async () => {
  const f = await makeNodeApp();
  try {
    const body = endlessBody();
    const res = await f.fetch("/api/v1/modules", {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: body.stream,
      // @ts-ignore: see above
      duplex: "half",
    });
    assert.equal(res.status, 401);
    await res.body?.cancel();
    assert.ok(body.pulled() <= 256 * 1024, `pulled ${body.pulled()} bytes`);
  } finally {
    await f.cleanup();
  }
});

Deno.test("body: a forged cluster signature is refused before the body is read", async () => {
  const f = await makeNodeApp();
  try {
    for (
      const sig of [
        "node=x,ts=1,nonce=zz,sig=00",
        `node=%E0%A4%A,ts=${Date.now()},nonce=${"a".repeat(24)},sig=${"b".repeat(64)}`,
        `node=n2,ts=${Date.now() - 3600_000},nonce=${"a".repeat(24)},sig=${"b".repeat(64)}`,
      ]
    ) {
      const body = endlessBody();
      const res = await f.fetch("/api/v1/modules", {
        method: "POST",
        headers: { "content-type": "application/octet-stream", "x-safekit-peer": sig },
        body: body.stream,
        // @ts-ignore: see above
        duplex: "half",
      });
      assert.equal(res.status, 403, sig);
      assert.match((await res.json()).error, /refused: (malformed|stale) cluster signature/);
      assert.ok(body.pulled() <= 256 * 1024, `pulled ${body.pulled()} bytes`);
    }
  } finally {
    await f.cleanup();
  }
});

Deno.test("body: every JSON or text route answers 415 to a body of another type", async () => {
  const f = await makeNodeApp();
  try {
    const headers = await adminHeaders(f);
    const wrong: string[] = [];
    let checked = 0;
    for (const { route, url, method } of tableRoutes(f)) {
      if (route.requestBody !== "json" && route.requestBody !== "text") continue;
      checked++;
      // What an HTML form on another site can send without a CORS preflight, and no type at all.
      const types = route.requestBody === "json"
        ? ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", null]
        : ["application/x-www-form-urlencoded", null];
      for (const type of types) {
        const h: Record<string, string> = { ...headers };
        if (type) h["content-type"] = type;
        const res = await f.fetch(url, { method, headers: h, body: new TextEncoder().encode('{"a":1}') });
        const text = await res.text();
        if (res.status !== 415 || !/unsupported Content-Type .* send /.test(text)) {
          wrong.push(`${method} ${url} (${type}) -> ${res.status} ${text}`);
        }
      }
    }
    assert.ok(checked >= 5, `only ${checked} JSON/text routes`);
    assert.deepEqual(wrong, []);
  } finally {
    await f.cleanup();
  }
});

Deno.test("body: malformed JSON gets 400 with the parser's reason", async () => {
  const f = await makeNodeApp();
  try {
    const headers = await adminHeaders(f, { "content-type": "application/json; charset=utf-8" });
    for (const bad of ['{"level": "I", "message": }', "{", "\u0000"]) {
      const res = await f.fetch("/api/v1/modules/m1/log", { method: "POST", headers, body: bad });
      assert.equal(res.status, 400);
      const { error } = await res.json();
      assert.match(error, /^request body is not valid JSON: .+/);
      assert.ok(error.length > "request body is not valid JSON: ".length + 5, error);
    }
    // The same route with good JSON reaches its handler (which then names the missing module).
    const ok = await f.fetch("/api/v1/modules/m1/log", {
      method: "POST",
      headers,
      body: JSON.stringify({ level: "I", message: "hello" }),
    });
    assert.equal(ok.status, 404);
    assert.match((await ok.json()).error, /module 'm1' is not installed/);
  } finally {
    await f.cleanup();
  }
});

Deno.test("body: an endless login form is cut at 16 KiB with 413", async () => {
  const f = await makeNodeApp();
  try {
    const body = endlessBody(4096);
    const res = await f.fetch("/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: body.stream,
      // @ts-ignore: see above
      duplex: "half",
    });
    assert.equal(res.status, 413);
    assert.match((await res.json()).error, /login form too large \(at most 16384 bytes\)/);
    assert.ok(body.pulled() <= 64 * 1024, `pulled ${body.pulled()} bytes`);
  } finally {
    await f.cleanup();
  }
});
