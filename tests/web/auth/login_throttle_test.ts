import assert from "node:assert/strict";
import {
  addressKey,
  backoffMs,
  DEFAULT_THROTTLE,
  LoginThrottle,
} from "../../../src/web/auth/login_throttle.ts";
import { makeFixture, PASSWORDS } from "./auth_fixture.ts";

Deno.test("back-off: 4 free failures, then 1 s, doubling up to 5 min", () => {
  assert.deepEqual(
    [1, 4, 5, 6, 7, 10, 13, 14, 100].map((n) => backoffMs(n)),
    [0, 0, 1000, 2000, 4000, 32_000, 256_000, 300_000, 300_000],
  );
});

Deno.test("after 5 failures a user must wait 1 s, then 2 s after the sixth", () => {
  const t = new LoginThrottle();
  for (let i = 0; i < 5; i++) {
    assert.equal(t.check("admin", "192.0.2.1", 0).ok, true);
    t.recordFailure("admin", "192.0.2.1", 0);
  }
  const v = t.check("admin", "192.0.2.99", 500); // another address: the user is still throttled
  assert.equal(v.ok, false);
  if (!v.ok) {
    assert.equal(v.retryAfterMs, 500);
    assert.equal(v.status, 429);
  }
  assert.equal(t.check("admin", "192.0.2.1", 1000).ok, true);
  t.recordFailure("admin", "192.0.2.1", 1000);
  assert.equal(t.check("admin", "192.0.2.1", 2999).ok, false);
  assert.equal(t.check("admin", "192.0.2.1", 3000).ok, true);
});

Deno.test("an address guessing many user names is throttled by address", () => {
  const t = new LoginThrottle();
  for (let i = 0; i < 5; i++) t.recordFailure(`user${i}`, "198.51.100.7", 0);
  assert.equal(t.check("someone-new", "198.51.100.7", 10).ok, false);
  assert.equal(t.check("someone-new", "198.51.100.8", 10).ok, true);
});

Deno.test("addresses of one IPv6 /64 count as one client", () => {
  assert.equal(addressKey("2001:db8:1:2::5"), "2001:db8:1:2::/64");
  assert.equal(addressKey("2001:0db8:0001:0002:ffff:0:0:9"), "2001:db8:1:2::/64");
  assert.equal(addressKey("::ffff:192.0.2.1"), "192.0.2.1");
  const t = new LoginThrottle();
  for (let i = 0; i < 5; i++) t.recordFailure(`u${i}`, `2001:db8:1:2::${i + 1}`, 0);
  assert.equal(t.check("x", "2001:db8:1:2:aaaa::1", 0).ok, false);
});

Deno.test("a successful login resets the user's and the address's failures", () => {
  const t = new LoginThrottle();
  for (let i = 0; i < 6; i++) t.recordFailure("admin", "192.0.2.1", 0);
  t.recordSuccess("admin", "192.0.2.1");
  assert.equal(t.check("admin", "192.0.2.1", 0).ok, true);
  t.recordFailure("admin", "192.0.2.1", 0);
  assert.equal(t.check("admin", "192.0.2.1", 0).ok, true, "the count started again from zero");
});

Deno.test("100k distinct addresses keep memory bounded and do not flush a blocked user", () => {
  const t = new LoginThrottle({ ...DEFAULT_THROTTLE, maxEntries: 1000 });
  for (let i = 0; i < 6; i++) t.recordFailure("admin", "203.0.113.1", 0);
  for (let i = 0; i < 100_000; i++) {
    t.recordFailure("admin", `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 1);
  }
  assert.ok(t.size.addresses <= 1000, `address table holds ${t.size.addresses}`);
  assert.equal(t.size.users, 1);
  assert.equal(t.check("admin", "192.0.2.200", 2).ok, false);
});

Deno.test("sprayed user names do not evict a user whose wait is still running", () => {
  const t = new LoginThrottle({ ...DEFAULT_THROTTLE, maxEntries: 100 });
  for (let i = 0; i < 10; i++) t.recordFailure("admin", "203.0.113.1", 0); // waits 32 s
  for (let i = 0; i < 10_000; i++) t.recordFailure(`spray${i}`, "203.0.113.2", 1);
  assert.ok(t.size.users <= 100);
  assert.equal(t.check("admin", "192.0.2.200", 1000).ok, false);
});

Deno.test("failures are forgotten after a day without any", () => {
  const t = new LoginThrottle();
  for (let i = 0; i < 8; i++) t.recordFailure("admin", "192.0.2.1", 0);
  assert.equal(t.check("admin", "192.0.2.1", 24 * 3600_000).ok, true);
});

Deno.test("only one password check per user runs at a time, and at most 4 on the node", () => {
  const t = new LoginThrottle();
  const first = t.begin("admin");
  assert.equal(typeof first, "function");
  const second = t.begin("admin");
  assert.equal(typeof second === "function" ? "function" : second.ok ? "?" : second.status, 429);
  const others = ["a", "b", "c"].map((u) => t.begin(u));
  const fifth = t.begin("d");
  assert.equal(typeof fifth === "function" ? "function" : fifth.ok ? "?" : fifth.status, 503);
  (first as () => void)();
  assert.equal(typeof t.begin("admin"), "function");
  for (const r of others) (r as () => void)();
});

Deno.test("POST /login answers 429 with Retry-After once the back-off applies, even for the right password", async () => {
  const f = await makeFixture();
  try {
    for (let i = 0; i < 5; i++) assert.equal((await f.login("admin", "wrong-password")).status, 401);
    const blocked = await f.login("admin", PASSWORDS.admin);
    assert.equal(blocked.status, 429);
    assert.equal(blocked.headers.get("retry-after"), "1");
    assert.match((await blocked.json()).error, /too many failed logins: retry in 1 s/);
    f.clock.now += 1000;
    assert.equal((await f.login("admin", PASSWORDS.admin)).status, 200);
    // The success reset the count: one more failure does not block.
    assert.equal((await f.login("admin", "wrong-password")).status, 401);
    assert.equal((await f.login("admin", PASSWORDS.admin)).status, 200);
  } finally {
    await f.cleanup();
  }
});
