import assert from "node:assert/strict";
import { makeFixture, ORIGIN, session } from "./auth_fixture.ts";

// A state-changing call authenticated by the session cookie, as the integrator's API would see it.
async function postAs(f: Awaited<ReturnType<typeof makeFixture>>, headers: Record<string, string>) {
  const req = new Request(ORIGIN + "/api/v1/modules/mirror/commands/stop", { method: "POST", headers });
  return await f.auth.authenticate(req, { kind: "tcp", remoteAddr: "192.0.2.10" }, f.clock.now);
}

Deno.test("a session call with the right token from our own origin is accepted", async () => {
  const f = await makeFixture();
  try {
    const s = await session(f, "ctl");
    const r = await postAs(f, { cookie: s.cookie, "x-csrf-token": s.csrf, origin: ORIGIN });
    assert.deepEqual(r, { kind: "user", user: "ctl", role: "Control", via: "session" });
  } finally {
    await f.cleanup();
  }
});

Deno.test("a state-changing session call without x-csrf-token is refused", async () => {
  const f = await makeFixture();
  try {
    const s = await session(f, "admin");
    const r = await postAs(f, { cookie: s.cookie, origin: ORIGIN });
    assert.equal(r.kind, "refused");
    if (r.kind === "refused") {
      assert.equal(r.status, 403);
      assert.match(r.message, /missing x-csrf-token/);
    }
  } finally {
    await f.cleanup();
  }
});

Deno.test("a token from another session is refused", async () => {
  const f = await makeFixture();
  try {
    const mine = await session(f, "admin");
    const other = await session(f, "admin");
    const r = await postAs(f, { cookie: mine.cookie, "x-csrf-token": other.csrf });
    assert.equal(r.kind, "refused");
    if (r.kind === "refused") assert.match(r.message, /wrong x-csrf-token/);
  } finally {
    await f.cleanup();
  }
});

Deno.test("a foreign Origin is refused even with the right token", async () => {
  const f = await makeFixture();
  try {
    const s = await session(f, "admin");
    const r = await postAs(f, { cookie: s.cookie, "x-csrf-token": s.csrf, origin: "http://evil.example" });
    assert.equal(r.kind, "refused");
    if (r.kind === "refused") assert.match(r.message, /origin 'http:\/\/evil.example' is not/);
    const viaReferer = await postAs(f, {
      cookie: s.cookie,
      "x-csrf-token": s.csrf,
      referer: "http://evil.example/page",
    });
    assert.equal(viaReferer.kind, "refused");
  } finally {
    await f.cleanup();
  }
});

Deno.test("reads with a session need no token", async () => {
  const f = await makeFixture();
  try {
    const s = await session(f, "mon");
    const req = new Request(ORIGIN + "/api/v1/modules", { headers: { cookie: s.cookie } });
    const r = await f.auth.authenticate(req, { kind: "tcp", remoteAddr: "192.0.2.10" }, f.clock.now);
    assert.equal(r.kind, "user");
  } finally {
    await f.cleanup();
  }
});

Deno.test("a login posted from a foreign origin is refused (login CSRF)", async () => {
  const f = await makeFixture();
  try {
    const res = await f.request("/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://evil.example" },
      body: "httpd_username=admin&httpd_password=admin-secret-1",
    });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get("set-cookie"), null);
  } finally {
    await f.cleanup();
  }
});
