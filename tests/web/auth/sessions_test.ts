import assert from "node:assert/strict";
import { SessionStore } from "../../../src/web/auth/sessions.ts";
import { makeFixture, PASSWORDS, session, sessionIdOf } from "./auth_fixture.ts";

const HOUR = 3600_000;

Deno.test("POST /login with SafeKit's form fields sets sessionSK HttpOnly, SameSite=Strict, Path=/", async () => {
  const f = await makeFixture();
  try {
    const res = await f.login("admin", PASSWORDS.admin);
    assert.equal(res.status, 200);
    const cookie = res.headers.get("set-cookie")!;
    assert.match(cookie, /^sessionSK=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    const body = await res.json();
    assert.equal(body.user, "admin");
    assert.equal(body.role, "Admin");
    assert.equal(typeof body.csrfToken, "string");
  } finally {
    await f.cleanup();
  }
});

Deno.test("the session cookie is Secure when the login came over HTTPS", async () => {
  const f = await makeFixture();
  try {
    const res = await f.app.request("https://node1:9453/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `httpd_username=admin&httpd_password=${PASSWORDS.admin}&login=Login`,
    }, { transport: { kind: "tcp", remoteAddr: "192.0.2.1", tls: true } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("set-cookie")!, /; Secure$/);
  } finally {
    await f.cleanup();
  }
});

Deno.test("a wrong password is refused with 401 and no cookie", async () => {
  const f = await makeFixture();
  try {
    const res = await f.login("admin", "not-the-password");
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("set-cookie"), null);
    assert.equal((await res.json()).error, "invalid user name or password");
  } finally {
    await f.cleanup();
  }
});

Deno.test("with no users file the login is refused with how to set a password", async () => {
  const f = await makeFixture({ users: false });
  try {
    const res = await f.login("admin", "admin");
    assert.equal(res.status, 401);
    assert.match((await res.json()).error, /webservercfg -passwd/);
  } finally {
    await f.cleanup();
  }
});

Deno.test("a session expires after 8 h idle, and each use restarts the idle clock", async () => {
  const f = await makeFixture();
  try {
    const { cookie } = await session(f, "mon");
    const whoami = () => f.request("/api/v1/auth/whoami", { headers: { cookie } });
    f.clock.now += 7 * HOUR;
    assert.equal((await whoami()).status, 200);
    f.clock.now += 7 * HOUR; // 14 h after login, 7 h after last use: still valid (sliding)
    assert.equal((await whoami()).status, 200);
    f.clock.now += 8 * HOUR;
    const res = await whoami();
    assert.equal(res.status, 401);
    assert.match((await res.json()).error, /expired after 8 h without activity/);
    assert.match(res.headers.get("set-cookie")!, /sessionSK=; .*Max-Age=0/);
  } finally {
    await f.cleanup();
  }
});

Deno.test("a session kept busy still ends at its absolute maximum age", () => {
  const store = new SessionStore({ idleMs: 8 * HOUR, absoluteMs: 7 * 24 * HOUR });
  const s = store.create("admin", "Admin", 0);
  let t = 0;
  while (t + HOUR < 7 * 24 * HOUR) {
    t += HOUR;
    assert.equal(store.use(s.id, t).kind, "valid");
  }
  assert.deepEqual(store.use(s.id, 7 * 24 * HOUR), { kind: "expired", why: "absolute" });
  assert.deepEqual(store.use(s.id, 7 * 24 * HOUR), { kind: "unknown" });
});

Deno.test("logout ends the session on the server and clears the cookie", async () => {
  const f = await makeFixture();
  try {
    const { cookie } = await session(f, "admin");
    const out = await f.request("/logout", {
      method: "POST",
      headers: { cookie, origin: "http://node1:9010" },
    });
    assert.equal(out.status, 200);
    assert.match(
      out.headers.get("set-cookie")!,
      /^sessionSK=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0$/,
    );
    const after = await f.request("/api/v1/auth/whoami", { headers: { cookie } });
    assert.equal(after.status, 401);
    assert.match((await after.json()).error, /session not found/);
  } finally {
    await f.cleanup();
  }
});

Deno.test("the session table is bounded: the least recently used session is dropped", () => {
  const store = new SessionStore({ max: 3 });
  const a = store.create("a", "Monitor", 0);
  const b = store.create("b", "Monitor", 0);
  const c = store.create("c", "Monitor", 0);
  store.use(a.id, 1); // a is now the most recently used
  store.create("d", "Monitor", 2);
  assert.equal(store.size, 3);
  assert.equal(store.use(b.id, 3).kind, "unknown");
  assert.equal(store.use(a.id, 3).kind, "valid");
  assert.equal(store.use(c.id, 3).kind, "valid");
});

Deno.test("each login gets a new session id", async () => {
  const f = await makeFixture();
  try {
    const a = sessionIdOf(await f.login("mon", PASSWORDS.mon));
    const b = sessionIdOf(await f.login("mon", PASSWORDS.mon));
    assert.notEqual(a, b);
  } finally {
    await f.cleanup();
  }
});
