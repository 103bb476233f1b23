import assert from "node:assert/strict";
import {
  type AuthCaller,
  authorize,
  parseRole,
  requiredRoleOf,
  type Role,
} from "../../../src/web/auth/mod.ts";

// What the API table holds: reads, actions (flagged Control) and configuration (mutates, no flag).
const READ = { mutates: false };
const ACTION = { mutates: true, requiredRole: "Control" as const };
const CONFIGURE = { mutates: true };

const user = (role: Role): AuthCaller => ({ kind: "user", user: role.toLowerCase(), role, via: "session" });

const matrix: [Role, boolean, boolean, boolean][] = [
  // role      read   action configure
  ["Monitor", true, false, false],
  ["Control", true, true, false],
  ["Admin", true, true, true],
];

for (const [role, read, action, configure] of matrix) {
  Deno.test(`roles: ${role} may read=${read}, act=${action}, configure=${configure}`, () => {
    assert.equal(authorize(READ, user(role)).ok, read);
    assert.equal(authorize(ACTION, user(role)).ok, action);
    assert.equal(authorize(CONFIGURE, user(role)).ok, configure);
  });
}

Deno.test("a refusal names the user's role and the role needed", () => {
  const v = authorize(CONFIGURE, user("Control"));
  assert.deepEqual(v, {
    ok: false,
    status: 403,
    message: "refused: 'control' has role Control; this call needs Admin (configuration)",
  });
});

Deno.test("a state-changing route cannot be opened to Monitor by its flag", () => {
  assert.equal(requiredRoleOf({ mutates: true, requiredRole: "Monitor" }), "Control");
  assert.equal(authorize({ mutates: true, requiredRole: "Monitor" }, user("Monitor")).ok, false);
});

Deno.test("the local CLI and cluster peers pass; anonymous callers are refused unless reads are opened", () => {
  assert.equal(authorize(CONFIGURE, { kind: "local", user: "root" }).ok, true);
  assert.equal(authorize(CONFIGURE, { kind: "peer", node: "node2", address: "10.0.0.2" }).ok, true);
  const anon = authorize(READ, { kind: "anonymous", address: "10.0.0.9" });
  assert.equal(anon.ok, false);
  if (!anon.ok) {
    assert.equal(anon.status, 401);
    assert.match(anon.message, /POST \/login/);
  }
  assert.equal(authorize(READ, { kind: "anonymous" }, { allowAnonymousRead: true }).ok, true);
  assert.equal(authorize(ACTION, { kind: "anonymous" }, { allowAnonymousRead: true }).ok, false);
});

Deno.test("role names in URLs are SafeKit's, any case", () => {
  assert.equal(parseRole("admin"), "Admin");
  assert.equal(parseRole("MONITOR"), "Monitor");
  assert.equal(parseRole("root"), null);
});
