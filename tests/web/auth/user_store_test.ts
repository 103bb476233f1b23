import assert from "node:assert/strict";
import { join } from "node:path";
import {
  FileAuthProvider,
  FileUserStore,
  parseUsersFile,
  parseWebservercfgArgs,
  PasswordPolicyError,
  runWebservercfg,
  usersFilePath,
  UserStoreError,
} from "../../../src/web/auth/mod.ts";

async function withStore(body: (store: FileUserStore, safe: string) => Promise<void>) {
  const safe = await Deno.makeTempDir({ prefix: "safekit-users-" });
  try {
    await body(new FileUserStore(usersFilePath(safe)), safe);
  } finally {
    await Deno.remove(safe, { recursive: true });
  }
}

Deno.test("the users file is SAFE/web/conf/user.json, written 0600 with explicit roles", () =>
  withStore(async (store, safe) => {
    assert.equal(store.path, join(safe, "web", "conf", "user.json"));
    await store.setPassword("admin", "first-password");
    await store.setPassword("op", "operator-pw", { role: "Monitor" });
    const file = await store.load();
    assert.equal(file!.users.admin.role, "Admin");
    assert.equal(file!.users.op.role, "Monitor");
    if (Deno.build.os !== "windows") assert.equal((await Deno.stat(store.path)).mode! & 0o777, 0o600);
    const raw = JSON.parse(await Deno.readTextFile(store.path));
    assert.equal(raw.format, "safekit-users-1");
    assert.match(raw.users.admin.hash, /^\$scrypt\$ln=15,r=8,p=1\$/);
  }));

Deno.test("changing a password keeps the user's role unless a role is given", () =>
  withStore(async (store) => {
    await store.setPassword("op", "operator-pw", { role: "Control" });
    await store.setPassword("op", "operator-pw2");
    assert.equal((await store.load())!.users.op.role, "Control");
  }));

Deno.test("a password shorter than 8 characters is refused with the reason and leaves no file", () =>
  withStore(async (store) => {
    await assert.rejects(
      store.setPassword("admin", "short"),
      (e: Error) =>
        e instanceof PasswordPolicyError && /at least 8/.test(e.message) && /'admin'/.test(e.message),
    );
    assert.equal(await store.load(), null);
  }));

Deno.test("-rcmdpasswd sets the private distributed-commands user rcmdadmin with role Admin", () =>
  withStore(async (store) => {
    const req = parseWebservercfgArgs(["-rcmdpasswd", "rcmd-password"]);
    assert.deepEqual(req, { kind: "rcmdpasswd", user: "rcmdadmin", password: "rcmd-password" });
    await runWebservercfg(store, req);
    const u = (await store.load())!.users.rcmdadmin;
    assert.equal(u.role, "Admin");
    assert.equal(u.purpose, "distributed-commands");
  }));

Deno.test("webservercfg -passwd defaults to user admin and accepts -user and -role", () => {
  assert.deepEqual(parseWebservercfgArgs(["-passwd", "p4ssword!"]), {
    kind: "passwd",
    user: "admin",
    password: "p4ssword!",
    role: undefined,
  });
  assert.deepEqual(parseWebservercfgArgs(["-passwd", "p4ssword!", "-user", "bob", "-role", "control"]), {
    kind: "passwd",
    user: "bob",
    password: "p4ssword!",
    role: "Control",
  });
  assert.throws(() => parseWebservercfgArgs(["-user", "bob"]), /exactly one of -passwd and -rcmdpasswd/);
  assert.throws(() => parseWebservercfgArgs(["-passwd"]), /'-passwd' needs a value/);
});

Deno.test("a damaged users file is reported with the file, the user and the field", () => {
  assert.throws(
    () =>
      parseUsersFile(
        JSON.stringify({ format: "safekit-users-1", users: { bob: { role: "Root", hash: "x" } } }),
        "/opt/safekit/web/conf/user.json",
      ),
    (e: Error) =>
      e instanceof UserStoreError &&
      e.message ===
        `/opt/safekit/web/conf/user.json: user 'bob': "role" is "Root", expected "Admin", "Control" or "Monitor"`,
  );
  assert.throws(() => parseUsersFile("{", "u.json"), /u.json: not valid JSON/);
});

Deno.test("with no users file every login fails and says how to set the password", () =>
  withStore(async (store) => {
    const v = await new FileAuthProvider(store).verifyPassword("admin", "anything-at-all");
    assert.equal(v.ok, false);
    if (!v.ok) {
      assert.equal(v.reason, "not-configured");
      assert.match(v.message, /safekit webservercfg -passwd <password>/);
    }
  }));

Deno.test("wrong password and unknown user give the same answer", () =>
  withStore(async (store) => {
    await store.setPassword("admin", "right-password");
    const p = new FileAuthProvider(store);
    assert.deepEqual(await p.verifyPassword("admin", "right-password"), {
      ok: true,
      user: "admin",
      role: "Admin",
    });
    const wrong = await p.verifyPassword("admin", "wrong-password");
    const unknown = await p.verifyPassword("nobody", "wrong-password");
    assert.deepEqual(wrong, unknown);
    assert.equal(wrong.ok, false);
    // Object prototype names are not users.
    assert.equal((await p.verifyPassword("constructor", "x")).ok, false);
  }));

Deno.test("an unknown user still costs a full scrypt hash (no timing shortcut)", () =>
  withStore(async (store) => {
    await store.setPassword("admin", "right-password");
    const p = new FileAuthProvider(store);
    await p.verifyPassword("warm-up", "x"); // the dummy hash is computed once, on first use
    const time = async (user: string) => {
      const t0 = performance.now();
      await p.verifyPassword(user, "wrong-password");
      return performance.now() - t0;
    };
    const known = Math.min(await time("admin"), await time("admin"));
    const unknown = Math.min(await time("nobody"), await time("nobody"));
    // Without the dummy hash an unknown user answers in well under a millisecond against ~100 ms.
    assert.ok(unknown > known * 0.4, `unknown user took ${unknown} ms, a known one ${known} ms`);
  }));
