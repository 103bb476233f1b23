import assert from "node:assert/strict";
import { makeFixture, ORIGIN, session } from "./auth_fixture.ts";

const TCP = { kind: "tcp", remoteAddr: "192.0.2.10" } as const;

Deno.test("whoami reports the session's user, role, CSRF token and expiry", async () => {
  const f = await makeFixture();
  try {
    const s = await session(f, "ctl");
    const res = await f.request("/api/v1/auth/whoami", { headers: { cookie: s.cookie } });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.user, "ctl");
    assert.equal(body.role, "Control");
    assert.equal(body.csrfToken, s.csrf);
    assert.equal(body.expiresAt, new Date(f.clock.now + 8 * 3600_000).toISOString());
  } finally {
    await f.cleanup();
  }
});

Deno.test("whoami without credentials is 401; over the control socket it is root with Admin", async () => {
  const f = await makeFixture();
  try {
    assert.equal((await f.request("/api/v1/auth/whoami")).status, 401);
    const local = await f.app.request(ORIGIN + "/api/v1/auth/whoami", {}, { transport: { kind: "local" } });
    assert.deepEqual(await local.json(), { user: "root", role: "Admin", via: "local" });
  } finally {
    await f.cleanup();
  }
});

Deno.test("a request with no cookie and no bearer is anonymous; an unknown cookie is refused", async () => {
  const f = await makeFixture();
  try {
    assert.deepEqual(await f.auth.authenticate(new Request(ORIGIN + "/api/v1/node"), TCP, 0), {
      kind: "anonymous",
    });
    const r = await f.auth.authenticate(
      new Request(ORIGIN + "/api/v1/node", { headers: { cookie: "other=1; sessionSK=forged" } }),
      TCP,
      0,
    );
    assert.equal(r.kind, "refused");
    if (r.kind === "refused") assert.equal(r.status, 401);
  } finally {
    await f.cleanup();
  }
});

Deno.test("login accepts a JSON body too, and refuses a form without the fields", async () => {
  const f = await makeFixture();
  try {
    const ok = await f.request("/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ httpd_username: "mon", httpd_password: "monitor-secret-3" }),
    });
    assert.equal(ok.status, 200);
    const bad = await f.request("/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "user=admin&password=x",
    });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error, /httpd_username and httpd_password/);
    const huge = await f.request("/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "httpd_username=admin&httpd_password=" + "x".repeat(20_000),
    });
    assert.equal(huge.status, 413); // oversized bodies are 413 everywhere (tests/web/security)
  } finally {
    await f.cleanup();
  }
});
