// The wiring the report asks the integrator to do in app.ts, rebuilt in miniature: proves the pieces fit
// (mounting authRoutes on the node app's Env, then authenticate + authorize per table route).
import assert from "node:assert/strict";
import { Hono } from "hono";
import type { Env } from "../../../src/web/app.ts";
import { type AuthCaller, authRoutes, type Role } from "../../../src/web/auth/mod.ts";
import { makeFixture, ORIGIN, session } from "./auth_fixture.ts";

type MiniRoute = { method: "get" | "post"; path: string; mutates: boolean; requiredRole?: Role };
const routes: MiniRoute[] = [
  { method: "get", path: "/modules", mutates: false },
  { method: "post", path: "/modules/m/commands/stop", mutates: true, requiredRole: "Control" },
  { method: "post", path: "/cluster/config", mutates: true },
];

function nodeApp(f: Awaited<ReturnType<typeof makeFixture>>): Hono<Env> {
  const app = new Hono<Env>();
  app.route("/", authRoutes(f.auth, () => f.clock.now));
  for (const route of routes) {
    app.on(route.method.toUpperCase(), "/api/v1" + route.path, async (c) => {
      const transport = c.env.transport;
      let caller: AuthCaller;
      if (transport.kind === "local") caller = { kind: "local", user: "root" };
      else {
        const r = await f.auth.authenticate(c.req.raw, transport, f.clock.now);
        if (r.kind === "refused") {
          if (r.clearCookie) c.header("set-cookie", r.clearCookie);
          return c.json({ error: r.message }, r.status);
        }
        caller = r.kind === "user" ? r : { kind: "anonymous", address: transport.remoteAddr };
      }
      const verdict = f.auth.authorize(route, caller);
      if (!verdict.ok) return c.json({ error: verdict.message }, verdict.status);
      return c.json({ ok: true, by: caller.kind === "user" ? caller.user : caller.kind });
    });
  }
  return app;
}

Deno.test("through the node app: each role reaches exactly the routes its role allows", async () => {
  const f = await makeFixture();
  try {
    const app = nodeApp(f);
    const env = { transport: { kind: "tcp" as const, remoteAddr: "192.0.2.10" } };
    const statuses: Record<string, number[]> = {};
    for (const who of ["mon", "ctl", "admin"] as const) {
      const s = await session(f, who);
      statuses[who] = [];
      for (const r of routes) {
        const res = await app.request(ORIGIN + "/api/v1" + r.path, {
          method: r.method.toUpperCase(),
          headers: { cookie: s.cookie, "x-csrf-token": s.csrf, origin: ORIGIN },
        }, env);
        statuses[who].push(res.status);
      }
    }
    assert.deepEqual(statuses, { mon: [200, 403, 403], ctl: [200, 200, 403], admin: [200, 200, 200] });
    const anonymous = await app.request(ORIGIN + "/api/v1/modules", {}, env);
    assert.equal(anonymous.status, 401);
    const local = await app.request(ORIGIN + "/api/v1/cluster/config", { method: "POST" }, {
      transport: { kind: "local" },
    });
    assert.equal(local.status, 200);
  } finally {
    await f.cleanup();
  }
});
