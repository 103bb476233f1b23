// The extension point for external directories, exercised with a real program: a shell script standing in
// for an LDAP lookup reads the credentials on stdin and prints the user's groups; the node maps them to a
// role. Checked piece by piece and then through the node's own /login.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  AuthConfigError,
  authConfigFilePath,
  ChainAuthProvider,
  CommandAuthProvider,
  type CredentialVerdict,
  parseAuthConfig,
  parseDirectoryAnswer,
  programProblem,
  roleFromGroups,
} from "../../../src/web/auth/mod.ts";
import { makeNodeApp, ORIGIN, PASSWORDS } from "./node_app_fixture.ts";

/** A directory of three people, as an LDAP bind + group search would answer. */
const DIRECTORY_SCRIPT = `#!/bin/sh
# Records how it was called, so the test can check the password was on stdin only.
echo "args=$*" > "$(dirname "$0")/called.txt"
env >> "$(dirname "$0")/called.txt"
IFS= read -r user
IFS= read -r password
case "$user:$password" in
  alice:alice-pw) echo "group=HA-Operators"; echo "group=staff" ;;
  bob:bob-pw) echo "# bob is a directory admin"; echo "role=Admin" ;;
  carol:carol-pw) echo "group=accounting" ;;
  Dave:dave-pw) echo "user=dave"; echo "group=staff" ;;
  slow:*) sleep 5 ;;
  broken:*) echo "directory server unreachable" >&2; exit 2 ;;
  chatty:*) echo "hello world" ;;
  *) exit 1 ;;
esac
`;

const GROUP_ROLES = { Admin: ["ha-admins"], Control: ["ha-operators"], Monitor: ["staff"] };

async function withScript(fn: (dir: string, script: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "safekit-extauth-" });
  const script = join(dir, "directory.sh");
  await Deno.writeTextFile(script, DIRECTORY_SCRIPT);
  await Deno.chmod(script, 0o700);
  try {
    await fn(dir, script);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("group mapping: the highest mapped role wins, case-insensitively; no mapped group gives no role", () => {
  assert.equal(roleFromGroups(["staff", "HA-Admins"], GROUP_ROLES), "Admin");
  assert.equal(roleFromGroups(["staff", "ha-operators"], GROUP_ROLES), "Control");
  assert.equal(roleFromGroups(["STAFF"], GROUP_ROLES), "Monitor");
  assert.equal(roleFromGroups(["accounting"], GROUP_ROLES), null);
  assert.equal(roleFromGroups([], {}), null);
  assert.equal(roleFromGroups(["staff"], GROUP_ROLES, ["Control"]), "Control");
});

Deno.test("directory answer: group, role and user lines are read; anything else is an error with its line", () => {
  assert.deepEqual(parseDirectoryAnswer("# c\ngroup=a\n\ngroup = b c\nrole=control\nuser=x\n"), {
    user: "x",
    groups: ["a", "b c"],
    roles: ["Control"],
  });
  assert.throws(() => parseDirectoryAnswer("group=a\nhello"), /line 2: expected key=value/);
  assert.throws(() => parseDirectoryAnswer("role=root"), /line 1: unknown role 'root'/);
  assert.throws(() => parseDirectoryAnswer("uid=3"), /line 1: unknown key 'uid'/);
  assert.throws(() => parseDirectoryAnswer("user=a\nuser=b"), /line 2: user= given twice/);
});

Deno.test("command provider: roles from groups or named outright, wrong passwords, and no password in argv or env", async () => {
  await withScript(async (dir, script) => {
    const logs: string[] = [];
    const p = new CommandAuthProvider(
      { path: script, args: ["--realm", "EXAMPLE"], groupRoles: GROUP_ROLES },
      (m) => logs.push(m),
    );
    assert.deepEqual(await p.verifyPassword("alice", "alice-pw"), {
      ok: true,
      user: "alice",
      role: "Control",
      groups: ["HA-Operators", "staff"],
    });
    const called = await Deno.readTextFile(join(dir, "called.txt"));
    assert.match(called, /^args=--realm EXAMPLE$/m);
    assert.doesNotMatch(called, /alice-pw/);
    assert.doesNotMatch(called, /^(SAFE|SAFEVAR|HOME|DENO_DIR)=/m, "the node's environment does not leak in");
    assert.equal((await p.verifyPassword("bob", "bob-pw") as { role: string }).role, "Admin");
    assert.deepEqual(await p.verifyPassword("Dave", "dave-pw"), {
      ok: true,
      user: "dave",
      role: "Monitor",
      groups: ["staff"],
    });
    const wrong = await p.verifyPassword("alice", "guess");
    assert.deepEqual(wrong, {
      ok: false,
      reason: "bad-credentials",
      message: "invalid user name or password",
    });
    const noRole = await p.verifyPassword("carol", "carol-pw") as Extract<CredentialVerdict, { ok: false }>;
    assert.equal(noRole.reason, "no-role");
    assert.match(noRole.message, /'carol' has no SafeKit role/);
    // A name that would add a line to the program's input is refused before it runs.
    assert.equal((await p.verifyPassword("alice\nbob", "x") as { reason: string }).reason, "bad-credentials");
    assert.deepEqual(logs, ["login of 'carol' refused: in no group mapped to a role (groups: accounting)"]);
  });
});

Deno.test("command provider: a failing, chatty or hung program makes the directory 'unavailable', logged precisely", async () => {
  await withScript(async (_dir, script) => {
    const logs: string[] = [];
    const p = new CommandAuthProvider(
      { path: script, timeoutMs: 300, groupRoles: GROUP_ROLES },
      (m) => logs.push(m),
    );
    const started = Date.now();
    const slow = await p.verifyPassword("slow", "x");
    assert.equal((slow as { reason: string }).reason, "unavailable");
    assert.ok(Date.now() - started < 3000, "the hung program is not waited for");
    assert.equal((await p.verifyPassword("broken", "x") as { reason: string }).reason, "unavailable");
    assert.equal((await p.verifyPassword("chatty", "x") as { reason: string }).reason, "unavailable");
    assert.match(logs[0], /gave no answer within 300 ms \(killed\)/);
    assert.match(logs[1], /exited with status 2: directory server unreachable/);
    assert.match(logs[2], /unreadable answer on line 1: expected key=value/);
  });
});

Deno.test("command provider: a program others can modify, or a relative path, is never run", async () => {
  await withScript(async (_dir, script) => {
    await Deno.chmod(script, 0o777);
    assert.match(await programProblem(script) ?? "", /writable by its group or by everybody \(mode 777\)/);
    const logs: string[] = [];
    const p = new CommandAuthProvider({ path: script }, (m) => logs.push(m));
    assert.equal((await p.verifyPassword("bob", "bob-pw") as { reason: string }).reason, "unavailable");
    assert.match(logs[0], /chmod go-w/);
    assert.match(await programProblem("directory.sh") ?? "", /not an absolute path/);
    await Deno.chmod(script, 0o600);
    assert.match(await programProblem(script) ?? "", /not executable/);
  });
});

Deno.test("chain: the first source that vouches wins; otherwise the most telling refusal", async () => {
  const answer = (v: CredentialVerdict) => ({ name: "x", verifyPassword: () => Promise.resolve(v) });
  const bad = answer({ ok: false, reason: "bad-credentials", message: "bad" });
  const down = answer({ ok: false, reason: "unavailable", message: "down" });
  const ok = answer({ ok: true, user: "u", role: "Monitor" });
  assert.deepEqual(await new ChainAuthProvider([bad, ok]).verifyPassword("u", "p"), {
    ok: true,
    user: "u",
    role: "Monitor",
  });
  assert.equal(
    (await new ChainAuthProvider([bad, down]).verifyPassword("u", "p") as { message: string }).message,
    "down",
  );
  assert.equal(
    (await new ChainAuthProvider([down, bad]).verifyPassword("u", "p") as { message: string }).message,
    "down",
  );
});

Deno.test("auth.json: precise errors name the file and the field", () => {
  const parse = (o: unknown) => parseAuthConfig(JSON.stringify(o), "/s/web/conf/auth.json");
  assert.deepEqual(parse({ format: "safekit-auth-1" }), { localUsers: true, command: undefined });
  assert.deepEqual(
    parse({
      format: "safekit-auth-1",
      localUsers: false,
      command: { path: "/bin/x", groupRoles: { Admin: ["a"] } },
    }),
    {
      localUsers: false,
      command: { path: "/bin/x", args: undefined, timeoutMs: undefined, groupRoles: { Admin: ["a"] } },
    },
  );
  const cases: [unknown, RegExp][] = [
    [{ format: "x" }, /"format" is "x", expected "safekit-auth-1"/],
    [{ format: "safekit-auth-1", comand: {} }, /unknown field "comand"/],
    [{ format: "safekit-auth-1", command: { path: "x.sh" } }, /"command.path" must be the absolute path/],
    [
      { format: "safekit-auth-1", command: { path: "/x", groupRoles: { Root: ["a"] } } },
      /unknown field "command.groupRoles.Root"/,
    ],
    [
      { format: "safekit-auth-1", command: { path: "/x", groupRoles: { Admin: "a" } } },
      /"command.groupRoles.Admin" must be a list/,
    ],
    [
      { format: "safekit-auth-1", command: { path: "/x", timeoutMs: 5 } },
      /"command.timeoutMs" must be an integer from 100/,
    ],
    [{ format: "safekit-auth-1", localUsers: false }, /nobody could log in/],
  ];
  for (const [doc, message] of cases) {
    assert.throws(
      () => parse(doc),
      (e: Error) =>
        e instanceof AuthConfigError && message.test(e.message) &&
        e.message.startsWith("/s/web/conf/auth.json: "),
    );
  }
  assert.throws(() => parseAuthConfig("{", "/a.json"), /\/a\.json: not valid JSON/);
});

Deno.test("through the node's /login: directory users get their mapped role; local users still work; damage is contained", async () => {
  await withScript(async (_dir, script) => {
    const f = await makeNodeApp();
    try {
      const path = authConfigFilePath(f.service.paths.safe);
      await Deno.mkdir(join(f.service.paths.safe, "web", "conf"), { recursive: true });
      await Deno.writeTextFile(
        path,
        JSON.stringify({ format: "safekit-auth-1", command: { path: script, groupRoles: GROUP_ROLES } }),
      );

      const alice = await f.login("alice", "alice-pw");
      assert.equal(alice.status, 200);
      const body = await alice.json();
      assert.equal(body.role, "Control");
      const headers = {
        cookie: (alice.headers.get("set-cookie") ?? "").split(";")[0],
        "x-csrf-token": body.csrfToken,
        origin: ORIGIN,
      };
      // Control: a module action passes authorisation (then 404: no such module); configuration is refused.
      const act = await f.fetch("/api/v1/modules/m1/commands/restart", { method: "POST", headers });
      assert.equal(act.status, 404);
      await act.body?.cancel();
      const configure = await f.fetch("/api/v1/cluster/config", { method: "DELETE", headers });
      assert.equal(configure.status, 403);
      await configure.body?.cancel();

      const carol = await f.login("carol", "carol-pw");
      assert.equal(carol.status, 403);
      assert.match((await carol.json()).error, /no SafeKit role/);
      const wrong = await f.login("alice", "nope");
      assert.equal(wrong.status, 401);
      await wrong.body?.cancel();
      const local = await f.login("admin", PASSWORDS.admin);
      assert.equal(local.status, 200, "the local users file is asked first");
      await local.body?.cancel();

      // A damaged auth.json: the local admin still logs in, directory users get 503, nobody gets in by it.
      await Deno.writeTextFile(
        path,
        JSON.stringify({ format: "safekit-auth-1", command: { path: "relative.sh" } }),
      );
      const admin = await f.login("admin", PASSWORDS.admin, "192.0.2.30");
      assert.equal(admin.status, 200);
      await admin.body?.cancel();
      const directory = await f.login("alice", "alice-pw", "192.0.2.30");
      assert.equal(directory.status, 503);
      assert.match((await directory.json()).error, /authentication configuration of this node is damaged/);

      // Directory only: the local users are no longer asked.
      await Deno.writeTextFile(
        path,
        JSON.stringify({
          format: "safekit-auth-1",
          localUsers: false,
          command: { path: script, groupRoles: GROUP_ROLES },
        }),
      );
      const noLocal = await f.login("admin", PASSWORDS.admin, "192.0.2.31");
      assert.equal(noLocal.status, 401);
      await noLocal.body?.cancel();
    } finally {
      await f.cleanup();
    }
  });
});
