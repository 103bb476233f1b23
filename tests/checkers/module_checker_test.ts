import assert from "node:assert/strict";
import {
  INITIAL_READINESS,
  moduleChecker,
  type ReadinessState,
  readinessStep,
  readyUrl,
} from "../../src/checkers/module_checker.ts";

Deno.test("readiness history: a restart is readiness back after it was seen, or a new probe tag while up", () => {
  const seq: [boolean, string | null, boolean][] = [
    [false, null, false], // not ready at first: waiting, not a restart
    [true, null, false], // first readiness
    [true, null, false],
    [false, null, false],
    [true, null, true], // back: restarted or failed over
    [true, "t1", false],
    [true, "t2", true], // ready.txt re-created between two polls
    [true, "t2", false],
  ];
  let s: ReadinessState = INITIAL_READINESS;
  seq.forEach(([ready, tag, restarted], i) => {
    const out = readinessStep(s, { ready, tag });
    s = out.state;
    assert.equal(out.restarted, restarted, `step ${i}`);
  });
});

Deno.test("the probe URL is the module's ready.txt on the node's web service", () => {
  assert.equal(
    readyUrl("other", { addr: "127.0.0.1", port: 9010, secure: false }),
    "http://127.0.0.1:9010/var/modules/other/ready.txt",
  );
  assert.equal(
    readyUrl("m", { addr: "::1", port: 9453, secure: true }),
    "https://[::1]:9453/var/modules/m/ready.txt",
  );
});

Deno.test("module checker: 200 is up, 404 down, and readiness coming back is reported as a restart", async () => {
  let ready = true;
  const paths: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.22", port: 0, onListen: () => {} }, (req) => {
    paths.push(new URL(req.url).pathname);
    return new Response(ready ? "OK\n" : "NOT FOUND\n", { status: ready ? 200 : 404 });
  });
  const seen: string[] = [];
  const restarts: string[] = [];
  const c = moduleChecker("module.other_127.0.0.22", "other", {
    addr: "127.0.0.22",
    port: server.addr.port,
    secure: false,
    intervalMs: 30,
    timeoutMs: 1000,
  }, { onRestarted: (r) => restarts.push(r) });
  const waitSeen = async (n: number) => {
    while (seen.length < n) await new Promise((r) => setTimeout(r, 10));
  };
  c.start((r, v) => seen.push(`${r}=${v}`));
  try {
    await waitSeen(1);
    ready = false;
    await waitSeen(2);
    assert.deepEqual(restarts, []);
    ready = true;
    await waitSeen(3);
    assert.deepEqual(seen, [
      "module.other_127.0.0.22=up",
      "module.other_127.0.0.22=down",
      "module.other_127.0.0.22=up",
    ]);
    assert.deepEqual(restarts, ["module.other_127.0.0.22"]);
    assert.equal(paths[0], "/var/modules/other/ready.txt");
    await server.shutdown();
    while (seen.length < 4) await new Promise((r) => setTimeout(r, 10));
    assert.equal(seen[3], "module.other_127.0.0.22=down", "an unreachable node is not ready");
  } finally {
    await c.stop();
    await server.shutdown();
  }
});

Deno.test("module checker: a restart between two polls is seen by the probe's ETag; secure without a CA is down", async () => {
  let since = 1;
  const server = Deno.serve(
    { hostname: "127.0.0.22", port: 0, onListen: () => {} },
    () => new Response("OK\n", { status: 200, headers: { etag: `"ready-${since}"` } }),
  );
  const seen: string[] = [];
  const restarts: string[] = [];
  const c = moduleChecker("module.m", "m", {
    addr: "127.0.0.22",
    port: server.addr.port,
    secure: false,
    intervalMs: 30,
    timeoutMs: 1000,
  }, { onRestarted: (r) => restarts.push(r) });
  c.start((r, v) => seen.push(`${r}=${v}`));
  try {
    while (seen.length < 1) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(restarts, [], "same tag: no restart");
    since = 2; // restarted and ready again before the next poll
    const deadline = Date.now() + 2000;
    while (restarts.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(restarts, ["module.m"]);
    assert.deepEqual(seen, ["module.m=up"], "never seen down");
  } finally {
    await c.stop();
    await server.shutdown();
  }
  const secure = moduleChecker("module.s", "s", {
    addr: "127.0.0.22",
    port: 9,
    secure: true,
    intervalMs: 1000,
    timeoutMs: 1000,
  }, { caCertFile: "/nonexistent/cacert.crt" });
  const got: string[] = [];
  secure.start((r, v) => got.push(`${r}=${v}`));
  try {
    while (got.length < 1) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got, ["module.s=down"]);
  } finally {
    await secure.stop();
  }
});
