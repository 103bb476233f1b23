// Mirror module life cycle around the node service: boot start, and a module with <rfs> saying plainly
// that replication is not available yet instead of pretending to synchronise.
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

Deno.test("mirror: with <rfs>, the secondary says replication is not available yet and does not claim Ready", async () => {
  await withNodes(NODES, async ([n1, n2], root) => {
    await setupMirror(n1, n2, root, { extra: `<rfs><replicated dir="%SAFEUSERVAR%/data"/></rfs>` });
    await n1.ok("prim", "-m", MODULE);
    await waitState(n1, "ALONE Ready");
    await n2.cli("second", "-m", MODULE);
    const deadline = Date.now() + 5000;
    let log = "";
    while (Date.now() < deadline) {
      log = await n2.ok("log", "-m", MODULE);
      if (/not available in this version/.test(log)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(
      log,
      /Reintegration failed: replication of <rfs> directories is not available in this version yet/,
    );
    assert.doesNotMatch(await n2.ok("state", "-m", MODULE), /SECOND Ready/);
    assert.match(await n1.ok("state", "-m", MODULE), /ALONE Ready/);
  });
});
