// Checkers drive a real two-node mirror module through the failover rules: a tcp checker's restart, a
// custom checker's wait and wakeup (with `init` keeping WAIT Transient), and maxloop stopping the module
// on the detection after the limit.
import assert from "node:assert/strict";
import { withNodes } from "./node_harness.ts";
import { MODULE, scriptRuns, setupMirror, waitLog, waitState } from "./mirror_harness.ts";

const NODES: [string, string][] = [["node1", "127.0.0.2"], ["node2", "127.0.0.3"]];
const FAST_RULES = `<failover period="200ms" handle_time="400ms"/>`;

Deno.test("tcp checker (when=prim, action=restart): the target closing restarts the application; maxloop then stops it", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.31", port: 28080 });
  const accepting = (async () => {
    for await (const c of listener) c.close();
  })().catch(() => {});
  let closed = false;
  try {
    await withNodes(NODES, async ([n1, n2], root) => {
      await setupMirror(n1, n2, root, {
        serviceAttrs: `maxloop="1"`,
        extra: `<check><tcp ident="app" when="prim" action="restart">
          <to addr="127.0.0.31" port="28080" interval="1s" timeout="1s"/></tcp></check>${FAST_RULES}`,
      });
      await n1.ok("prim", "-m", MODULE);
      await waitState(n1, "ALONE Ready");
      await waitLog(n1, /Resource tcp\.app set to up by tcpcheck/);
      listener.close();
      closed = true;
      // First detection: restart (maxloop 1 allows one), logged with the generated rule t_app.
      await waitLog(n1, /Action restart from failover rule t_app/);
      // The target stays closed: the next detection is over the limit and stops the module.
      await waitLog(n1, /Action stop called by maxloop/, 15_000);
      await waitState(n1, "STOP NotReady", 10_000);
      const restarts = (await scriptRuns(n1)).filter((r) => r.script === "start_prim").length;
      assert.equal(
        restarts,
        2,
        "start_prim at prim, then once for the restart\n" +
          (await n1.ok("log", "-m", MODULE, "-A", "-s", "200")),
      );
    });
  } finally {
    if (!closed) listener.close();
    await accepting;
  }
});

Deno.test("custom checker with action=wait: init keeps WAIT Transient, down stops into WAIT NotReady, up wakes up", async () => {
  await withNodes(NODES, async ([n1, n2], root) => {
    await setupMirror(n1, n2, root, {
      extra: `<check><custom ident="app" when="pre" exec="sleeper" action="wait"/></check>${FAST_RULES}`,
      scripts: { sleeper: "#!/bin/sh\nexec sleep 600\n" },
    });
    await n1.ok("prim", "-m", MODULE);
    await waitState(n1, "WAIT Transient");
    await n1.ok("set", "-m", MODULE, "-r", "custom.app", "-v", "up", "-i", "app");
    await waitState(n1, "ALONE Ready");
    await n1.ok("set", "-m", MODULE, "-r", "custom.app", "-v", "down", "-i", "app");
    await waitState(n1, "WAIT NotReady");
    const log = await waitLog(n1, /Action wait from failover rule c_app|wait.*c_app/);
    assert.match(log, /Script stop_prim/);
    await n1.ok("set", "-m", MODULE, "-r", "custom.app", "-v", "up", "-i", "app");
    await waitState(n1, "ALONE Ready");
    await waitLog(n1, /Action wakeup from failover rule Implicit_wakeup/);
    const runs = (await scriptRuns(n1)).map((r) => `${r.script} ${r.args}`);
    assert.ok(runs.some((r) => /^stop_prim ALONE WAIT stopwait/.test(r)), runs.join("\n"));
    assert.ok(!runs.some((r) => r.startsWith("poststop")), "a wait is not a stop: no poststop");
  });
});

Deno.test("maintenance switches persist as usersetting.*; incloop/checkloop/resetloop answer by exit code", async () => {
  await withNodes(NODES, async ([n1, n2], root) => {
    await setupMirror(n1, n2, root);
    await n1.ok("prim", "-m", MODULE);
    await waitState(n1, "ALONE Ready");
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await n1.cli("incloop", "-m", MODULE, "-i", "handler")).code);
    assert.deepEqual(codes, [0, 0, 0, 1], "the 4th increment passes maxloop (3)");
    assert.equal((await n1.cli("checkloop", "-m", MODULE)).code, 1);
    assert.equal((await n1.cli("resetloop", "-m", MODULE)).code, 0);
    assert.equal((await n1.cli("checkloop", "-m", MODULE)).code, 0);
    await n1.ok("checker", "off", "-m", MODULE);
    await n1.ok("errd", "off", "-m", MODULE);
    assert.equal((await n1.ok("get", "-m", MODULE, "-r", "usersetting.checker")).trim(), "off");
    assert.equal((await n1.ok("get", "-m", MODULE, "-r", "usersetting.errd")).trim(), "off");
    const bad = await n1.cli("checker", "maybe", "-m", MODULE);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /expects on or off/);
  });
});
