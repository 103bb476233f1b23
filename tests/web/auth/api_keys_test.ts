import assert from "node:assert/strict";
import { authorize } from "../../../src/web/auth/mod.ts";
import { makeFixture, ORIGIN, session } from "./auth_fixture.ts";

const TCP = { kind: "tcp", remoteAddr: "192.0.2.10" } as const;

Deno.test("an Admin session creates a key for a role; the token is shown once and works as Bearer", async () => {
  const f = await makeFixture();
  try {
    const s = await session(f, "admin");
    const res = await f.request("/api/v1/apikey/Monitor/grafana", {
      method: "POST",
      headers: { cookie: s.cookie, "x-csrf-token": s.csrf, origin: ORIGIN },
    });
    assert.equal(res.status, 201);
    const created = await res.json();
    assert.match(created.token, /^sk1_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    assert.equal(created.role, "Monitor");
    assert.equal(created.createdBy, "admin");

    const stored = await Deno.readTextFile(`${f.safe}/web/conf/apikey.json`);
    assert.equal(stored.includes(created.token.slice(22)), false, "the secret is not stored");

    const list = await (await f.request("/api/v1/apikey", { headers: { cookie: s.cookie } })).json();
    assert.deepEqual(list.map((k: { name: string }) => k.name), ["grafana"]);
    assert.equal("hash" in list[0], false);

    const req = new Request(ORIGIN + "/api/v1/modules", {
      headers: { authorization: `Bearer ${created.token}` },
    });
    const who = await f.auth.authenticate(req, TCP, f.clock.now);
    assert.deepEqual(who, { kind: "user", user: "apikey:grafana", role: "Monitor", via: "bearer" });
  } finally {
    await f.cleanup();
  }
});

Deno.test("a bearer key carries its role: a Monitor key can read but not act or configure", async () => {
  const f = await makeFixture();
  try {
    const { token } = await f.auth.deps.apiKeys.create("Monitor", "reader", "root", new Date());
    const req = new Request(ORIGIN + "/api/v1/modules/m/commands/stop", {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    const who = await f.auth.authenticate(req, TCP, f.clock.now);
    assert.equal(who.kind, "user");
    if (who.kind !== "user") return;
    assert.equal(authorize({ mutates: false }, who).ok, true);
    assert.equal(authorize({ mutates: true, requiredRole: "Control" }, who).ok, false);
    assert.equal(authorize({ mutates: true }, who).ok, false);
  } finally {
    await f.cleanup();
  }
});

Deno.test("a deleted key, a tampered token or a made-up token are refused with 401", async () => {
  const f = await makeFixture();
  try {
    const { token } = await f.auth.deps.apiKeys.create("Admin", "ci", "root", new Date());
    const as = (t: string) =>
      f.auth.authenticate(
        new Request(ORIGIN + "/api/v1/node", { headers: { authorization: `Bearer ${t}` } }),
        TCP,
        f.clock.now,
      );
    assert.equal((await as(token)).kind, "user");
    const flipped = token.slice(0, -1) + (token.endsWith("A") ? "B" : "A");
    assert.equal((await as(flipped)).kind, "refused");
    assert.equal((await as("sk1_0000000000000000_" + "A".repeat(43))).kind, "refused");
    assert.equal((await as("garbage")).kind, "refused");

    const s = await session(f, "admin");
    const del = await f.request("/api/v1/apikey/Admin/ci", {
      method: "DELETE",
      headers: { cookie: s.cookie, "x-csrf-token": s.csrf },
    });
    assert.equal(del.status, 200);
    const after = await as(token);
    assert.equal(after.kind, "refused");
    if (after.kind === "refused") assert.equal(after.status, 401);
  } finally {
    await f.cleanup();
  }
});

Deno.test("deleting needs the key's own role in the URL", async () => {
  const f = await makeFixture();
  try {
    await f.auth.deps.apiKeys.create("Control", "ops", "root", new Date());
    const res = await f.app.request(ORIGIN + "/api/v1/apikey/Admin/ops", { method: "DELETE" }, {
      transport: { kind: "local" },
    });
    assert.equal(res.status, 404);
    assert.match((await res.json()).error, /has role Control, not Admin/);
  } finally {
    await f.cleanup();
  }
});

Deno.test("only an Admin session or the local CLI manages keys: not Control, not another key", async () => {
  const f = await makeFixture();
  try {
    const ctl = await session(f, "ctl");
    const byControl = await f.request("/api/v1/apikey/Monitor/x", {
      method: "POST",
      headers: { cookie: ctl.cookie, "x-csrf-token": ctl.csrf },
    });
    assert.equal(byControl.status, 403);
    const { token } = await f.auth.deps.apiKeys.create("Admin", "robot", "root", new Date());
    const byKey = await f.request("/api/v1/apikey/Admin/y", {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(byKey.status, 403);
    const anonymous = await f.request("/api/v1.0/apikey/Admin/z", { method: "POST" });
    assert.equal(anonymous.status, 401);
    const local = await f.app.request(ORIGIN + "/api/v1.0/apikey/Admin/z", { method: "POST" }, {
      transport: { kind: "local" },
    });
    assert.equal(local.status, 201);
  } finally {
    await f.cleanup();
  }
});

Deno.test("a key name used twice, a bad name or a bad role are refused precisely", async () => {
  const f = await makeFixture();
  try {
    const local = (path: string) =>
      f.app.request(ORIGIN + path, { method: "POST" }, { transport: { kind: "local" } });
    assert.equal((await local("/api/v1/apikey/Admin/dup")).status, 201);
    const again = await local("/api/v1/apikey/Monitor/dup");
    assert.equal(again.status, 409);
    assert.match((await again.json()).error, /already exists \(role Admin\)/);
    const role = await local("/api/v1/apikey/Root/x");
    assert.equal(role.status, 400);
    assert.match((await role.json()).error, /unknown role 'Root'/);
    assert.equal((await local("/api/v1/apikey/Admin/.hidden")).status, 400);
  } finally {
    await f.cleanup();
  }
});
