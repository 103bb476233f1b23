// Farm and light modules on real node services, in cloud mode (no <vip>): start on both nodes gives UP
// Ready everywhere and ready.txt answers 200 on each; stopping one leaves the other UP; start_both and
// stop_both run with SafeKit's arguments; a light module runs on one node.
import assert from "node:assert/strict";
import { join } from "node:path";
import { packageModuleDir } from "../../src/module_package/mod.ts";
import { clusterXml, type TestNode, withNodes } from "./node_harness.ts";

const RECORD = `#!/bin/sh
echo "$(date +%s%3N) $(basename "$0") $*" >> "$SAFEUSERVAR/scripts.log"
`;

async function moduleSafe(root: string, xml: string): Promise<string> {
  const tree = join(root, `tree-${crypto.randomUUID()}`);
  await Deno.mkdir(join(tree, "conf"), { recursive: true });
  await Deno.mkdir(join(tree, "bin"), { recursive: true });
  await Deno.writeTextFile(join(tree, "conf", "userconfig.xml"), xml);
  for (const s of ["prestart", "start_both", "stop_both", "poststop"]) {
    await Deno.writeTextFile(join(tree, "bin", s), RECORD, { mode: 0o755 });
    await Deno.chmod(join(tree, "bin", s), 0o755);
  }
  const file = join(root, `m-${crypto.randomUUID()}.safe`);
  await Deno.writeFile(file, await packageModuleDir(tree));
  return file;
}

async function waitUp(node: TestNode, module: string, want: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  let last = "";
  while (Date.now() < deadline) {
    const r = await node.api<{ state: { local: string; qualifier: string } | null }>(
      `/api/v1/modules/${module}`,
    );
    const s = r?.body.state;
    last = s ? `${s.local} ${s.qualifier}` : "none";
    if (last === want) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `${node.name}/${module} did not reach ${want} (last ${last})\n${
      (await node.cli("log", "-m", module)).stdout
    }`,
  );
}

async function probe(node: TestNode, module: string): Promise<number> {
  const r = await fetch(`http://${node.addr}:9010/var/modules/${module}/ready.txt`);
  await r.body?.cancel();
  return r.status;
}

Deno.test("farm (cloud mode): UP Ready on both nodes, ready.txt 200 on each, one stop leaves the other UP", async () => {
  await withNodes([["node1", "127.0.0.2"], ["node2", "127.0.0.3"]], async ([n1, n2], root) => {
    await Deno.writeTextFile(join(root, "cluster.xml"), clusterXml([n1, n2]));
    await n1.ok("cluster", "config", "cluster.xml");
    await n1.ok("cluster", "export", "bundle.zip");
    await n2.ok("cluster", "config", "bundle.zip");
    const safe = await moduleSafe(
      root,
      `<safe><service mode="farm"><farm><lan name="default"/></farm><user/></service></safe>`,
    );
    await n1.ok("module", "install", "-m", "farm", safe);
    await n1.ok("config", "-m", "farm");
    await n1.ok("-H", "*", "-E", "farm");
    await n1.ok("-H", "*", "start", "-m", "farm");
    await waitUp(n1, "farm", "UP Ready");
    await waitUp(n2, "farm", "UP Ready");
    assert.equal(await probe(n1, "farm"), 200);
    assert.equal(await probe(n2, "farm"), 200);
    assert.equal((await n1.cli("state", "-m", "farm", "-lq")).code, 2);
    await n2.ok("stop", "-m", "farm");
    await waitUp(n2, "farm", "STOP NotReady");
    assert.equal(await probe(n2, "farm"), 404);
    assert.equal(await probe(n1, "farm"), 200);
    const log = await Deno.readTextFile(join(n2.safevar, "modules", "farm", "scripts.log"));
    assert.match(log, /prestart STOP WAIT start\n.*start_both WAIT UP start/);
    assert.match(log, /stop_both UP STOP stop/);
    assert.match(log, /stop_both force UP STOP stop/);
    assert.match(
      await n2.ok("log", "-m", "farm"),
      /Local state UP Ready[\s\S]*Script stop_both[\s\S]*Local state STOP NotReady/,
    );
  });
});

Deno.test("light module: start, UP Ready, restart, stop on one node", async () => {
  await withNodes([["node1", "127.0.0.2"], ["node2", "127.0.0.3"]], async ([n1, n2], root) => {
    await Deno.writeTextFile(join(root, "cluster.xml"), clusterXml([n1, n2]));
    await n1.ok("cluster", "config", "cluster.xml");
    const safe = await moduleSafe(root, `<safe><service mode="light"><user/></service></safe>`);
    await n1.ok("module", "install", "-m", "light", safe);
    await n1.ok("config", "-m", "light");
    await n1.ok("start", "-m", "light");
    await waitUp(n1, "light", "UP Ready");
    await n1.ok("restart", "-m", "light");
    await waitUp(n1, "light", "UP Ready");
    await n1.ok("stop", "-m", "light");
    await waitUp(n1, "light", "STOP NotReady");
    const refused = await n1.cli("prim", "-m", "light");
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /^Error: /m);
    void n2;
  });
});
