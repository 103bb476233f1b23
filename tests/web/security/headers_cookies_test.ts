// What the browser is told: the session cookie cannot be read by scripts, sent by other sites, or sent in
// clear once the node speaks HTTPS; pages cannot be framed, sniffed, or made to run inline script.
import assert from "node:assert/strict";
import { makeNodeApp, PASSWORDS } from "./node_app_fixture.ts";

function attributes(setCookie: string): Set<string> {
  return new Set(setCookie.split(";").slice(1).map((a) => a.trim().toLowerCase()));
}

Deno.test("cookies: the session cookie is HttpOnly, SameSite=Strict, Path=/, and Secure only over HTTPS", async () => {
  const f = await makeNodeApp();
  try {
    const plain = await f.login("admin", PASSWORDS.admin);
    assert.equal(plain.status, 200);
    await plain.body?.cancel();
    const overHttp = attributes(plain.headers.get("set-cookie")!);
    assert.ok(overHttp.has("httponly") && overHttp.has("samesite=strict") && overHttp.has("path=/"));
    assert.ok(!overHttp.has("secure"), "an HTTP console could never send a Secure cookie back");
    assert.ok(
      ![...overHttp].some((a) => a.startsWith("domain=")),
      "no Domain: the cookie stays on this host",
    );

    const tls = await f.fetch(
      "/login",
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `httpd_username=admin&httpd_password=${PASSWORDS.admin}`,
      },
      "192.0.2.20",
      true,
    );
    assert.equal(tls.status, 200);
    const cookie = tls.headers.get("set-cookie")!;
    await tls.body?.cancel();
    const overHttps = attributes(cookie);
    assert.ok(overHttps.has("secure") && overHttps.has("httponly") && overHttps.has("samesite=strict"));

    const out = await f.fetch(
      "/logout",
      {
        method: "POST",
        headers: { cookie: cookie.split(";")[0] },
      },
      "192.0.2.20",
      true,
    );
    await out.body?.cancel();
    const cleared = attributes(out.headers.get("set-cookie")!);
    assert.ok(cleared.has("max-age=0") && cleared.has("secure") && cleared.has("httponly"));
  } finally {
    await f.cleanup();
  }
});

Deno.test("headers: the console page forbids inline script, framing, sniffing and cross-site referrers", async () => {
  const f = await makeNodeApp();
  try {
    for (const path of ["/console/", "/console/index.html", "/console/app.js", "/console/app.css"]) {
      const res = await f.fetch(path);
      assert.equal(res.status, 200, path);
      await res.body?.cancel();
      const csp = res.headers.get("content-security-policy") ?? "";
      const script = /script-src ([^;]+)/.exec(csp)?.[1] ?? /default-src ([^;]+)/.exec(csp)?.[1] ?? "";
      assert.ok(script.length > 0, `${path}: no script-src`);
      assert.doesNotMatch(script, /unsafe-inline|unsafe-eval|\*/, `${path}: ${csp}`);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.match(csp, /base-uri 'none'/);
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      assert.equal(res.headers.get("x-frame-options"), "DENY");
      assert.match(res.headers.get("referrer-policy") ?? "", /^(same-origin|no-referrer|strict-origin)/);
    }
  } finally {
    await f.cleanup();
  }
});

Deno.test("headers: Swagger UI, API answers, errors and redirects cannot be framed or sniffed either", async () => {
  const f = await makeNodeApp();
  try {
    const s = await f.session("mon");
    const cases: [string, RequestInit][] = [
      ["/swagger-ui/", {}],
      ["/swagger-ui/init.js", {}],
      ["/api/openapi.json", {}],
      ["/api/v1/modules", {}],
      ["/api/v1/modules", { headers: { cookie: s.cookie } }],
      ["/api/v1/no-such-route", {}],
      ["/", {}],
      ["/var/modules/m1/ready.txt", {}],
    ];
    for (const [path, init] of cases) {
      const res = await f.fetch(path, init);
      await res.body?.cancel();
      const what = `${path} (${res.status})`;
      assert.equal(res.headers.get("x-content-type-options"), "nosniff", what);
      assert.equal(res.headers.get("x-frame-options"), "DENY", what);
      assert.match(res.headers.get("content-security-policy") ?? "", /frame-ancestors 'none'/, what);
      assert.doesNotMatch(
        /script-src ([^;]+)/.exec(res.headers.get("content-security-policy") ?? "")?.[1] ?? "",
        /unsafe-inline/,
        what,
      );
    }
    // The API's JSON is never cached by a shared cache with someone's session in it.
    const api = await f.fetch("/api/v1/modules", { headers: { cookie: s.cookie } });
    assert.equal(api.status, 200);
    await api.body?.cancel();
    assert.match(api.headers.get("cache-control") ?? "", /no-store/);
  } finally {
    await f.cleanup();
  }
});

Deno.test("headers: no CORS grant to another origin, even on a preflight", async () => {
  const f = await makeNodeApp();
  try {
    const s = await f.session("admin");
    for (const method of ["OPTIONS", "GET"]) {
      const res = await f.fetch("/api/v1/modules", {
        method,
        headers: {
          origin: "http://evil.example",
          "access-control-request-method": "POST",
          cookie: s.cookie,
        },
      });
      await res.body?.cancel();
      assert.equal(res.headers.get("access-control-allow-origin"), null, method);
      assert.equal(res.headers.get("access-control-allow-credentials"), null, method);
    }
  } finally {
    await f.cleanup();
  }
});
