// Password guessing through the node's real app: after a few failures the next attempt is answered 429 with
// Retry-After, whether the guesses come from one address (many names) or target one name (many addresses),
// and even the right password waits its turn.
import assert from "node:assert/strict";
import { DEFAULT_THROTTLE } from "../../../src/web/auth/mod.ts";
import { makeNodeApp, PASSWORDS } from "./node_app_fixture.ts";

const FREE = DEFAULT_THROTTLE.freeFailures;

Deno.test("login throttle: one address guessing many user names is slowed down (429, Retry-After)", async () => {
  const f = await makeNodeApp();
  try {
    const attacker = "203.0.113.7";
    for (let i = 0; i <= FREE; i++) {
      const res = await f.login(`guess${i}`, "wrong", attacker);
      assert.equal(res.status, 401, `attempt ${i + 1}`);
      assert.equal((await res.json()).error, "invalid user name or password");
    }
    const blocked = await f.login("admin", PASSWORDS.admin, attacker);
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers.get("retry-after")) >= 1);
    assert.match((await blocked.json()).error, /too many failed logins: retry in \d+ s/);
    assert.equal(blocked.headers.get("set-cookie"), null);
    // Another address is not punished for the attacker's guesses.
    const other = await f.login("admin", PASSWORDS.admin, "198.51.100.1");
    assert.equal(other.status, 200);
    await other.body?.cancel();
  } finally {
    await f.cleanup();
  }
});

Deno.test("login throttle: one user name guessed from many addresses is slowed down", async () => {
  const f = await makeNodeApp();
  try {
    for (let i = 0; i <= FREE; i++) {
      const res = await f.login("ctl", `wrong-${i}`, `203.0.113.${i + 1}`);
      assert.equal(res.status, 401);
      await res.body?.cancel();
    }
    const blocked = await f.login("ctl", PASSWORDS.ctl, "203.0.113.200");
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers.get("retry-after")) >= 1);
    await blocked.body?.cancel();
    // The other accounts still log in from a clean address.
    const mon = await f.login("mon", PASSWORDS.mon, "198.51.100.2");
    assert.equal(mon.status, 200);
    await mon.body?.cancel();
  } finally {
    await f.cleanup();
  }
});

Deno.test("login throttle: an IPv6 attacker cannot escape by rotating addresses inside its /64", async () => {
  const f = await makeNodeApp();
  try {
    for (let i = 0; i <= FREE; i++) {
      const res = await f.login(`guess${i}`, "wrong", `2001:db8:1:2::${(i + 1).toString(16)}`);
      assert.equal(res.status, 401);
      await res.body?.cancel();
    }
    const blocked = await f.login("someone", "wrong", "2001:db8:1:2:ffff::99");
    assert.equal(blocked.status, 429);
    await blocked.body?.cancel();
  } finally {
    await f.cleanup();
  }
});
