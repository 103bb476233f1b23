// Two real node services on 127.0.0.2 and 127.0.0.3, driven only through the CLI and HTTP.
import assert from "node:assert/strict";
import { join } from "node:path";
import { packageModuleDir } from "../../src/module_package/mod.ts";
import { signPeerRequest } from "../../src/web/peer_auth.ts";
import { clusterXml, type TestNode, withNodes } from "./node_harness.ts";

const MIRROR_XML = `<safe><service mode="mirror"><heart><heartbeat name="default"/></heart>
<user><var name="X" value="1"/></user></service></safe>`;

async function makeSafe(root: string, xml = MIRROR_XML): Promise<string> {
  const tree = join(root, `tree-${crypto.randomUUID()}`);
  await Deno.mkdir(join(tree, "conf"), { recursive: true });
  await Deno.mkdir(join(tree, "bin"), { recursive: true });
  await Deno.writeTextFile(join(tree, "conf", "userconfig.xml"), xml);
  await Deno.writeTextFile(join(tree, "bin", "start_prim"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  const file = join(root, `m-${crypto.randomUUID()}.safe`);
  await Deno.writeFile(file, await packageModuleDir(tree));
  return file;
}

async function configureCluster(n1: TestNode, n2: TestNode, root: string): Promise<void> {
  await Deno.writeTextFile(join(root, "cluster.xml"), clusterXml([n1, n2]));
  await n1.ok("cluster", "config", "cluster.xml");
  await n1.ok("cluster", "export", "bundle.zip");
  await n2.ok("cluster", "config", "bundle.zip");
}

Deno.test("the CLI says plainly when the node service is not running", async () => {
  const root = await Deno.makeTempDir();
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(Deno.cwd(), "main.ts"), "state"],
      env: { SAFE: join(root, "safe"), SAFEVAR: join(root, "var") },
    }).output();
    assert.notEqual(out.code, 0);
    assert.match(
      new TextDecoder().decode(out.stderr),
      /^Error: safeadmin administrator daemon not running$/m,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("two nodes: cluster config, membership, module install/config/export, distributed state", async () => {
  await withNodes([["node1", "127.0.0.2"], ["node2", "127.0.0.3"]], async ([n1, n2], root) => {
    // Before any cluster.xml the CLI still reaches its node through SAFEVAR.
    assert.match(await n1.ok("level"), /SafeKit: \d/);

    // A broken cluster.xml is refused with its line, and nothing changes.
    await Deno.writeTextFile(
      join(root, "bad.xml"),
      '<cluster>\n  <lans>\n    <lan name="x">\n  </lans>\n</cluster>',
    );
    const bad = await n1.cli("cluster", "confcheck", "bad.xml");
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /^Error: .*:\d+/m);

    await configureCluster(n1, n2, root);
    const confinfo = await n1.ok("cluster", "confinfo", "--json");
    const rows = JSON.parse(confinfo) as { node: string; signature: string; error?: string }[];
    assert.deepEqual(rows.map((r) => r.node), ["node1", "node2"]);
    assert.equal(rows[0].signature, rows[1].signature, confinfo);

    // Membership: each node sees the other up over authenticated UDP.
    const deadline = Date.now() + 10_000;
    let view: { node: string; up: boolean }[] = [];
    while (Date.now() < deadline) {
      view = (await n2.api<{ nodes: typeof view }>("/api/v1/cluster/membership"))?.body.nodes ?? [];
      if (view.every((v) => v.up)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(view, [{ node: "node1", up: true }, { node: "node2", up: true }]);

    // Module: install on node1, configure, then export to every node with -E (same id everywhere).
    const safe = await makeSafe(root);
    assert.match(await n1.ok("module", "install", "-m", "mirror", "-M", "3", safe), /installed with id 3/);
    await n1.ok("config", "-m", "mirror");
    const exported = await n1.ok("-H", "*", "-E", "mirror");
    assert.match(exported, /---------------- Server=http:\/\/127\.0\.0\.2:9010 ----------------/);
    assert.match(exported, /---------------- Server=http:\/\/127\.0\.0\.3:9010 ----------------/);
    assert.equal(JSON.parse(await n2.ok("module", "listid", "--json"))[0].id, 3);
    const dist = await n1.ok("-H", "*", "state", "-m", "mirror");
    assert.equal(dist.match(/mirror\s+3\s+mirror\s+STOP NotReady/g)?.length, 2, dist);

    // -lq exit code: STOP is 0.
    assert.equal((await n2.cli("state", "-m", "mirror", "-lq")).code, 0);

    // Ports by module id.
    const ports = await n1.ok("module", "getports", "-m", "mirror");
    assert.match(ports, /heart\nport UDP 8890/);
    assert.match(ports, /safenfs_port TCP 5608/);

    // The probe: 404 while STOP, HEAD too, and unknown modules are 404 as well.
    for (const method of ["GET", "HEAD"]) {
      const r = await fetch("http://127.0.0.2:9010/var/modules/mirror/ready.txt", { method });
      await r.body?.cancel();
      assert.equal(r.status, 404);
    }

    // Resources and the module log.
    await n1.ok("set", "-m", "mirror", "-r", "custom.app", "-v", "down", "-i", "appcheck");
    assert.equal((await n1.ok("get", "-m", "mirror", "-r", "custom.app")).trim(), "down");
    assert.match(
      await n1.ok("log", "-m", "mirror"),
      /\| appcheck \| C \| Resource custom.app set to down by appcheck/,
    );
    await n1.ok("printi", "-m", "mirror", "verbose only");
    assert.doesNotMatch(await n1.ok("log", "-m", "mirror"), /verbose only/);
    assert.match(await n1.ok("log", "-m", "mirror", "-A"), /\| I \| verbose only/);

    // The command log records state-changing calls.
    assert.match(await n1.ok("cmdlog"), /\| START \| config -m mirror/);
  });
});

Deno.test("state-changing calls over the network need the cluster key; forged and replayed ones are refused", async () => {
  await withNodes([["node1", "127.0.0.2"], ["node2", "127.0.0.3"]], async ([n1, n2], root) => {
    await configureCluster(n1, n2, root);
    const url = "http://127.0.0.2:9010/api/v1/cli";
    const body = new TextEncoder().encode(JSON.stringify({ args: ["cluster", "deconfig"] }));

    const anon = await fetch(url, { method: "POST", body });
    assert.equal(anon.status, 401);
    assert.match((await anon.json()).error, /authentication required/);
    const anonRead = await fetch("http://127.0.0.2:9010/api/v1/modules");
    assert.equal(anonRead.status, 401, "reads need a user too (Monitor role at least)");
    await anonRead.body?.cancel();

    const wrongKey = crypto.getRandomValues(new Uint8Array(32));
    const forged = await fetch(url, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "x-safekit-peer": await signPeerRequest(wrongKey, "node2", "POST", "/api/v1/cli", body, Date.now()),
      },
    });
    assert.equal(forged.status, 403);
    assert.match((await forged.json()).error, /bad cluster signature/);

    // A correctly signed request from the cluster is accepted once; the same bytes again are a replay.
    const keyHex = (await Deno.readTextFile(join(n2.safevar, "cluster", "cluster.key"))).trim();
    const key = Uint8Array.from(keyHex.match(/../g)!.map((h) => parseInt(h, 16)));
    const readBody = new TextEncoder().encode(JSON.stringify({ args: ["module", "list"] }));
    const sig = await signPeerRequest(key, "node2", "POST", "/api/v1/cli", readBody, Date.now());
    const first = await fetch(url, {
      method: "POST",
      body: readBody,
      headers: { "content-type": "application/json", "x-safekit-peer": sig },
    });
    assert.equal(first.status, 200, await first.clone().text());
    assert.equal((await first.json()).code, 0);
    const replay = await fetch(url, {
      method: "POST",
      body: readBody,
      headers: { "content-type": "application/json", "x-safekit-peer": sig },
    });
    assert.equal(replay.status, 403);
    assert.match((await replay.json()).error, /replayed/);

    // node1 still has its configuration.
    assert.match(await n1.ok("cluster", "confinfo"), /node1/);
  });
});

Deno.test("a hostile .safe archive is refused with its own message and leaves the node unchanged", async () => {
  await withNodes([["node1", "127.0.0.2"], ["node2", "127.0.0.3"]], async ([n1, n2], root) => {
    await configureCluster(n1, n2, root);
    const before = await n1.ok("module", "list", "--json");
    await Deno.writeFile(join(root, "notzip.safe"), new TextEncoder().encode("this is not a zip"));
    const r = await n1.cli("module", "install", "-m", "evil", "notzip.safe");
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^Error: .*not.*zip/im);
    const badXml = await makeSafe(
      root,
      '<safe><service mode="mirror"><heart><heartbeat name="nosuchlan"/></heart></service>',
    );
    const r2 = await n1.cli("module", "install", "-m", "evil", badXml);
    assert.notEqual(r2.code, 0);
    assert.match(r2.stderr, /^Error: /m);
    assert.equal(await n1.ok("module", "list", "--json"), before);
    await Deno.stat(join(n1.safe, "modules", "evil")).then(
      () => assert.fail("a refused module left files behind"),
      (e) => assert.ok(e instanceof Deno.errors.NotFound),
    );
  });
});

Deno.test("stores survive a kill -9 of the node service", async () => {
  await withNodes([["node1", "127.0.0.2"], ["node2", "127.0.0.3"]], async ([n1, n2], root) => {
    await configureCluster(n1, n2, root);
    await n1.ok("module", "install", "-m", "m1", await makeSafe(root));
    await n1.ok("config", "-m", "m1");
    await n1.ok("printe", "-m", "m1", "before the crash");
    n1.kill("SIGKILL");
    await n1.waitExit();
    await n1.start();
    assert.match(await n1.ok("log", "-m", "m1"), /before the crash/);
    assert.match(await n1.ok("state", "-m", "m1"), /STOP NotReady/);
    assert.match(await n1.ok("cluster", "confinfo"), /node1/);
  });
});
