// Every route the node's web service answers, enumerated from the app itself (Hono's route list and the
// route table it was built from), so a route added later is swept without editing this file: anonymous
// callers get 401, Monitor gets 403 on anything that changes state, a session without its CSRF token gets
// 403, Control gets 403 on configuration. A route that is neither in the table nor classified below fails
// the sweep until someone decides who may call it.
import assert from "node:assert/strict";
import { requiredRoleOf, type Role, type RouteAccess } from "../../../src/web/auth/mod.ts";
import { routeTableOf } from "../../../src/web/app.ts";
import { isStateChanging } from "../../../src/web/auth/csrf.ts";
import { makeNodeApp, type NodeAppFixture, ORIGIN } from "./node_app_fixture.ts";

/** Answer without credentials on purpose; each with the reason. */
const PUBLIC: Readonly<Record<string, string>> = {
  "GET /var/modules/:module/ready.txt": "health probe for load balancers (spec §9.6); reveals one bit",
  "HEAD /var/modules/:module/ready.txt": "the same probe, HEAD form",
  "GET /api/openapi.json": "the API's shape, generated from the table; no state, no data",
  "POST /login": "where credentials are presented (throttled, origin-checked)",
  "POST /logout": "ends the caller's own session, if any",
  "GET /": "redirect to /console/",
  "GET /console": "redirect to /console/",
  "GET /console/": "console page: static, the data comes from the API",
  "GET /console/index.html": "console page",
  "GET /console/app.js": "console script (static, compiled in)",
  "GET /console/app.css": "console style sheet",
  "GET /swagger-ui": "redirect to /swagger-ui/",
  "GET /swagger-ui/": "Swagger UI page (static)",
  "GET /swagger-ui/index.html": "Swagger UI page",
  "GET /swagger-ui/swagger-ui.css": "Swagger UI asset",
  "GET /swagger-ui/swagger-ui-bundle.js": "Swagger UI asset",
  "GET /swagger-ui/init.js": "Swagger UI asset",
};

/** Routes served outside the table (src/web/auth: whoami, API keys), with the access they implement. */
const OUTSIDE_TABLE: Readonly<Record<string, RouteAccess>> = Object.fromEntries(
  ["/api/v1", "/api/v1.0"].flatMap((p) => [
    [`GET ${p}/auth/whoami`, { mutates: false }],
    [`GET ${p}/apikey`, { mutates: false, requiredRole: "Admin" }],
    [`POST ${p}/apikey/:role/:name`, { mutates: true }],
    [`DELETE ${p}/apikey/:role/:name`, { mutates: true }],
  ]),
);

/**
 * POST routes that change nothing and so are open to Monitor; listed so that a state-changing route marked
 * `mutates: false` by mistake fails the sweep instead of opening itself to every role.
 */
const READ_ONLY_POSTS: Readonly<Record<string, string>> = {
  "POST /api/v1/modules/:module/confcheck": "validates the module's configuration, writes nothing",
  "POST /api/v1/cluster/confcheck": "validates a cluster.xml sent in the body, writes nothing",
  "POST /api/v1/modules/:module/rfs/digest": "checksums a replicated directory (Admin: it reads every file)",
  "POST /api/v1/modules/:module/rfs/verify": "compares both copies by checksum (Admin), changes no data",
};

type Swept = { key: string; method: string; url: string; access: RouteAccess };

/** Every (method, path) the app answers with what it requires, the public ones left out. */
function sweepList(f: NodeAppFixture): Swept[] {
  const table = new Map<string, RouteAccess>();
  for (const r of routeTableOf(f.service.app)) {
    const path = (r.absolutePath ?? "/api/v1" + r.path).replace(/\{(\w+)\}/g, ":$1");
    table.set(`${r.method.toUpperCase()} ${path}`, r);
  }
  const seen = new Set<string>();
  const out: Swept[] = [];
  for (const r of f.service.app.routes) {
    if (r.method === "ALL") continue; // middleware, not an endpoint
    const key = `${r.method} ${r.path}`;
    if (seen.has(key) || key in PUBLIC) continue;
    seen.add(key);
    const access = table.get(key) ?? OUTSIDE_TABLE[key];
    if (!access) throw new Error(`route ${key} is neither in the route table nor classified by this sweep`);
    out.push({ key, method: r.method, url: r.path.replace(/:(\w+)/g, "sweep_$1"), access });
  }
  return out;
}

async function statusOf(res: Response): Promise<number> {
  await res.body?.cancel();
  return res.status;
}

Deno.test("route sweep: the app answers the whole route table, and the public list names real routes", async () => {
  const f = await makeNodeApp();
  try {
    const routes = new Set(f.service.app.routes.map((r) => `${r.method} ${r.path}`));
    for (const key of Object.keys(PUBLIC)) assert.ok(routes.has(key), `public route ${key} no longer exists`);
    const table = routeTableOf(f.service.app);
    assert.ok(table.length > 30, `only ${table.length} table routes found`);
    const swept = sweepList(f);
    for (const r of table) {
      const path = (r.absolutePath ?? "/api/v1" + r.path).replace(/\{(\w+)\}/g, ":$1");
      assert.ok(swept.some((s) => s.key === `${r.method.toUpperCase()} ${path}`), `${path} not swept`);
    }
  } finally {
    await f.cleanup();
  }
});

Deno.test("route sweep: every non-GET route is state-changing unless listed as a read-only check", async () => {
  const f = await makeNodeApp();
  try {
    const unexpected = sweepList(f)
      .filter((r) => r.method !== "GET" && !r.access.mutates && !(r.key in READ_ONLY_POSTS))
      .map((r) => r.key);
    assert.deepEqual(unexpected, []);
  } finally {
    await f.cleanup();
  }
});

Deno.test("route sweep: every non-public route answers 401 to an anonymous caller", async () => {
  const f = await makeNodeApp();
  try {
    const wrong: string[] = [];
    for (const r of sweepList(f)) {
      const status = await statusOf(await f.fetch(r.url, { method: r.method }));
      if (status !== 401) wrong.push(`${r.key} -> ${status}`);
      // A stale or foreign session cookie is no better than none.
      const bogus = await statusOf(
        await f.fetch(r.url, { method: r.method, headers: { cookie: "sessionSK=forged" } }),
      );
      if (bogus !== 401) wrong.push(`${r.key} with a forged cookie -> ${bogus}`);
      const badKey = await statusOf(
        await f.fetch(r.url, { method: r.method, headers: { authorization: "Bearer sk1_0000_forged" } }),
      );
      if (badKey !== 401) wrong.push(`${r.key} with a forged API key -> ${badKey}`);
    }
    assert.deepEqual(wrong, []);
  } finally {
    await f.cleanup();
  }
});

Deno.test("route sweep: the public routes answer without credentials and never 5xx", async () => {
  const f = await makeNodeApp();
  try {
    for (const key of Object.keys(PUBLIC)) {
      const [method, path] = key.split(" ");
      const res = await f.fetch(path.replace(/:(\w+)/g, "sweep_$1"), {
        method,
        headers: { origin: ORIGIN },
      });
      const status = await statusOf(res);
      assert.ok(status < 500 && status !== 401 && status !== 403, `${key} -> ${status}`);
    }
  } finally {
    await f.cleanup();
  }
});

/**
 * Sends every route `expectRefused` selects as `who`, once with a session (and its CSRF token) and once
 * with an API key of the same role; returns the answers that were not a 403 refusal.
 */
async function sweepAs(
  f: NodeAppFixture,
  who: "mon" | "ctl",
  expectRefused: (access: RouteAccess) => boolean,
): Promise<{ checked: number; wrong: string[] }> {
  const s = await f.session(who);
  const role: Role = who === "mon" ? "Monitor" : "Control";
  const { token } = await f.service.auth.deps.apiKeys.create(role, `sweep-${who}`, "test", new Date());
  const credentials: Record<string, Record<string, string>> = {
    session: { cookie: s.cookie, "x-csrf-token": s.csrf, origin: ORIGIN },
    "API key": { authorization: `Bearer ${token}` },
  };
  const wrong: string[] = [];
  let checked = 0;
  for (const r of sweepList(f)) {
    if (!expectRefused(r.access)) continue;
    checked++;
    for (const [via, headers] of Object.entries(credentials)) {
      const res = await f.fetch(r.url, { method: r.method, headers });
      const body = await res.text();
      if (res.status !== 403 || !/"error":"refused: /.test(body)) {
        wrong.push(`${r.key} (${via}) -> ${res.status} ${body}`);
      }
    }
  }
  return { checked, wrong };
}

Deno.test("route sweep: Monitor (session or API key) gets 403 on every state-changing route", async () => {
  const f = await makeNodeApp();
  try {
    const { checked, wrong } = await sweepAs(f, "mon", (a) => a.mutates || requiredRoleOf(a) !== "Monitor");
    assert.ok(checked > 15, `only ${checked} state-changing routes`);
    assert.deepEqual(wrong, []);
  } finally {
    await f.cleanup();
  }
});

Deno.test("route sweep: Control (session or API key) gets 403 on every Admin-only route", async () => {
  const f = await makeNodeApp();
  try {
    const admin: Role = "Admin";
    const { checked, wrong } = await sweepAs(f, "ctl", (a) => requiredRoleOf(a) === admin);
    assert.ok(checked > 10, `only ${checked} Admin-only routes`);
    assert.deepEqual(wrong, []);
  } finally {
    await f.cleanup();
  }
});

Deno.test("route sweep: a session without the CSRF token, or from another origin, gets 403 on every state-changing call", async () => {
  const f = await makeNodeApp();
  try {
    const s = await f.session("admin");
    const wrong: string[] = [];
    let checked = 0;
    for (const r of sweepList(f)) {
      if (!isStateChanging(r.method)) continue;
      checked++;
      const attempts: Record<string, Record<string, string>> = {
        "no token": { cookie: s.cookie, origin: ORIGIN },
        "wrong token": { cookie: s.cookie, origin: ORIGIN, "x-csrf-token": s.csrf.slice(1) + "A" },
        "foreign origin": { cookie: s.cookie, origin: "http://evil.example", "x-csrf-token": s.csrf },
      };
      for (const [what, headers] of Object.entries(attempts)) {
        const res = await f.fetch(r.url, { method: r.method, headers });
        const body = await res.text();
        if (res.status !== 403 || !/x-csrf-token|cross-site/.test(body)) {
          wrong.push(`${r.key} (${what}) -> ${res.status} ${body}`);
        }
      }
    }
    assert.ok(checked > 15);
    assert.deepEqual(wrong, []);
  } finally {
    await f.cleanup();
  }
});
