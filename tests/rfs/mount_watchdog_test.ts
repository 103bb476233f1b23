// The replicated mounts' null-request watchdog: a healthy directory passes, a lookup that hangs fails after
// checktime, an error other than "no such file" fails at once, and a failure is reported exactly once.
import assert from "node:assert/strict";
import { MountWatchdog } from "../../src/rfs/mount_watchdog.ts";

Deno.test("watchdog: a directory that answers passes; each probe uses a fresh name", async () => {
  const d = await Deno.makeTempDir();
  const seen: string[] = [];
  const w = new MountWatchdog({
    dirs: [d],
    checkTimeMs: 1000,
    checkIntervalMs: 10_000,
    onFailure: () => assert.fail("healthy"),
    lookup: (p) => (seen.push(p), Deno.lstat(p)),
  });
  assert.equal(await w.checkNow(), null);
  assert.equal(await w.checkNow(), null);
  assert.equal(seen.length, 2);
  assert.notEqual(seen[0], seen[1]);
  assert.ok(seen[0].startsWith(`${d}/.safekit-null-request-`));
  w.stop();
  await Deno.remove(d);
});

Deno.test("watchdog: a hung lookup fails after checktime and reports once", async () => {
  const failures: string[] = [];
  const w = new MountWatchdog({
    dirs: ["/mnt/x"],
    checkTimeMs: 50,
    checkIntervalMs: 10_000,
    onFailure: (r) => failures.push(r),
    lookup: () => new Promise(() => {}),
  });
  const t0 = Date.now();
  assert.match((await w.checkNow())!, /did not answer a null request within 50 ms/);
  assert.ok(Date.now() - t0 >= 45);
  assert.equal(await w.checkNow(), null, "stopped after the first failure");
  assert.equal(failures.length, 1);
});

Deno.test("watchdog: ENOTCONN from a dead FUSE server fails at once", async () => {
  const failures: string[] = [];
  const w = new MountWatchdog({
    dirs: ["/mnt/dead"],
    checkTimeMs: 60_000,
    checkIntervalMs: 10_000,
    onFailure: (r) => failures.push(r),
    lookup: () =>
      Promise.reject(new Deno.errors.NotConnected("Transport endpoint is not connected (os error 107)")),
  });
  assert.match((await w.checkNow())!, /failed a null request: Transport endpoint is not connected/);
  assert.equal(failures.length, 1);
});

Deno.test("watchdog: start probes on the interval until stopped", async () => {
  let n = 0;
  const w = new MountWatchdog({
    dirs: ["/x"],
    checkTimeMs: 100,
    checkIntervalMs: 20,
    onFailure: () => {},
    lookup: () => (n++, Promise.reject(new Deno.errors.NotFound("no"))),
  });
  w.start();
  await new Promise((r) => setTimeout(r, 130));
  w.stop();
  const at = n;
  assert.ok(at >= 3, `probed ${at} times`);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(n, at);
});
