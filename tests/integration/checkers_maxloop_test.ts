// The maxloop counter is kept across a node service restart (what automatic_reboot relies on: a module
// failing at each boot must reach its stop, not reboot forever), and an administrator command resets it.
import assert from "node:assert/strict";
import { withNodes } from "./node_harness.ts";
import { MODULE, setupMirror, waitState } from "./mirror_harness.ts";

const NODES: [string, string][] = [["node1", "127.0.0.61"], ["node2", "127.0.0.62"]];

Deno.test("maxloop counter survives a node service restart; an administrator command resets it", async () => {
  await withNodes(NODES, async ([n1, n2], root) => {
    await setupMirror(n1, n2, root); // maxloop 3, loop_interval 24 h
    const incloop = async () => (await n1.cli("incloop", "-m", MODULE, "-i", "handler")).code;
    assert.deepEqual([await incloop(), await incloop(), await incloop()], [0, 0, 0]);
    assert.equal((await n1.ok("get", "-m", MODULE, "-r", "heart.stopstartcount")).trim(), "3");
    const since = (await n1.ok("get", "-m", MODULE, "-r", "heart.stopstartloop")).trim();
    assert.match(since, /^\d{10}$/, "epoch seconds of the counter start");

    await n1.stop();
    await n1.start();
    // The 4th detection, after the restart, passes maxloop: the count was not lost.
    assert.equal(await incloop(), 1);
    assert.equal((await n1.cli("checkloop", "-m", MODULE)).code, 1);
    assert.equal((await n1.ok("get", "-m", MODULE, "-r", "heart.stopstartloop")).trim(), since);

    // An administrator's command (no -i) resets it.
    await n1.ok("prim", "-m", MODULE);
    await waitState(n1, "ALONE Ready");
    assert.equal((await n1.cli("checkloop", "-m", MODULE)).code, 0);
    assert.equal((await n1.ok("get", "-m", MODULE, "-r", "heart.stopstartcount")).trim(), "0");
    assert.equal((await n1.ok("get", "-m", MODULE, "-r", "heart.stopstartloop")).trim(), "0");

    // Commands given with -i (a custom checker's `safekit restart -i <id>`) count toward maxloop: the 4th
    // within loop_interval stops the module instead of running.
    for (let i = 0; i < 3; i++) await n1.ok("restart", "-m", MODULE, "-i", "custom.app");
    assert.equal((await n1.ok("get", "-m", MODULE, "-r", "heart.stopstartcount")).trim(), "3");
    const fourth = await n1.cli("restart", "-m", MODULE, "-i", "custom.app");
    assert.notEqual(fourth.code, 0);
    assert.match(fourth.stderr, /maxloop reached: module mirror stopped instead of restart/);
    await waitState(n1, "STOP NotReady");
    assert.match(await n1.ok("log", "-m", MODULE), /Action stop called by maxloop/);
  });
});
