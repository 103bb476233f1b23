// Mirror module life cycle around the node service: boot start.
import assert from "node:assert/strict";
import { withNodes } from "./node_harness.ts";
import { MODULE, setupMirror, waitState } from "./mirror_harness.ts";

const NODES: [string, string][] = [["node1", "127.0.0.2"], ["node2", "127.0.0.3"]];

Deno.test('mirror: boot="on" starts the module when the node service starts', async () => {
  await withNodes(NODES, async ([n1, n2], root) => {
    await setupMirror(n1, n2, root, { boot: "on" });
    // Configured while both services run: no boot event yet.
    assert.match(await n1.ok("state", "-m", MODULE), /STOP NotReady/);
    await n1.stop();
    await n2.stop();
    await n1.start();
    await n2.start();
    await waitState(n1, "PRIM Ready", 20_000).catch(() => waitState(n2, "PRIM Ready", 5_000));
    const logs = (await n1.ok("log", "-m", MODULE)) + (await n2.ok("log", "-m", MODULE));
    assert.match(logs, /Action start called at boot time/);
  });
});

Deno.test("mirror: `failover off` and `boot on` switches apply at once and survive a node service restart", async () => {
  await withNodes(NODES, async ([n1, n2], root) => {
    await setupMirror(n1, n2, root);
    await n1.ok("-H", "*", "failover", "off", "-m", MODULE);
    await n1.ok("boot", "on", "-m", MODULE);
    assert.match(await n1.ok("boot", "status", "-m", MODULE), /mirror boot on/);
    // The switch survives a restart of the node services (usersetting.failover in resource.db).
    await n2.stop();
    await n2.start();
    await n1.ok("prim", "-m", MODULE);
    await waitState(n1, "ALONE Ready");
    await n2.ok("second", "-m", MODULE);
    await waitState(n2, "SECOND Ready");
    await waitState(n1, "PRIM Ready");
    await n1.ok("stop", "-m", MODULE);
    await waitState(n2, "WAIT NotReady");
    assert.match(await n2.ok("log", "-m", MODULE), /Failover-off configured/);
    // boot on with <service boot="ignore"> (the default): the module starts when node1's service starts.
    await n1.stop();
    await n1.start();
    await waitState(n1, "PRIM Ready", 20_000).catch(() => waitState(n1, "ALONE Ready", 5_000));
    assert.match(await n1.ok("log", "-m", MODULE), /Action start called at boot time/);
  });
});
