// Module configuration life cycle through the CLI: config keeps the last 3 configurations, confinfo tells
// active from current, package round-trips, uninstall archives the module first, deconfig stops nothing.
import assert from "node:assert/strict";
import { join } from "node:path";
import { packageModuleDir } from "../../src/module_package/mod.ts";
import { clusterXml, withNodes } from "./node_harness.ts";

Deno.test("module life cycle: config keeps 3 configurations, confinfo, package, deconfig, uninstall archives", async () => {
  await withNodes([["node1", "127.0.0.2"], ["node2", "127.0.0.3"]], async ([n1, n2], root) => {
    await Deno.writeTextFile(join(root, "cluster.xml"), clusterXml([n1, n2]));
    await n1.ok("cluster", "config", "cluster.xml");
    const tree = join(root, "tree");
    await Deno.mkdir(join(tree, "conf"), { recursive: true });
    await Deno.writeTextFile(
      join(tree, "conf", "userconfig.xml"),
      `<safe><service mode="mirror"><heart><heartbeat name="default"/></heart></service></safe>`,
    );
    await Deno.writeFile(join(root, "m.safe"), await packageModuleDir(tree));
    // Without a file, install searches SAFE/Application_Modules.
    const templates = join(n1.safe, "Application_Modules", "generic");
    await Deno.mkdir(templates, { recursive: true });
    await Deno.copyFile(join(root, "m.safe"), join(templates, "m.safe"));
    assert.match(await n1.ok("module", "install", "-m", "m"), /installed with id 1 from .*generic\/m\.safe/);

    for (let i = 0; i < 4; i++) await n1.ok("config", "-m", "m");
    const saved = [...Deno.readDirSync(join(n1.safe, "modules", "lastconfig"))].map((e) => e.name);
    assert.equal(saved.filter((n) => /^m_\d{8}_\d{9}\.safe$/.test(n)).length, 3, saved.join(" "));

    // Editing the current configuration changes its signature, not the active one.
    const xml = join(n1.safe, "modules", "m", "conf", "userconfig.xml");
    await Deno.writeTextFile(xml, (await Deno.readTextFile(xml)).replace("<service", '<service boot="off"'));
    const info = JSON.parse(await n1.ok("confinfo", "-m", "m", "--json"));
    assert.notEqual(info.active.signature, info.current.signature);
    await n1.ok("confcheck", "-m", "m");

    await n1.ok("module", "package", "-m", "m", join(root, "out.safe"));
    assert.ok((await Deno.stat(join(root, "out.safe"))).size > 100);

    await n1.ok("deconfig", "-m", "m");
    assert.match(await n1.ok("state", "-m", "m"), /NOT CONFIGURED/);
    await n1.ok("module", "uninstall", "-m", "m");
    assert.ok((await Deno.stat(join(n1.safe, "Application_Modules", "backup", "m.safe"))).isFile);
    assert.equal((await n1.ok("module", "list")).trim(), "");
    const gone = await n1.cli("state", "-m", "m");
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /module 'm' is not installed/);
  });
});

Deno.test("config refuses failover rules with a syntax error or in Lua, with the position and what to write", async () => {
  await withNodes([["node1", "127.0.0.2"], ["node2", "127.0.0.3"]], async ([n1, n2], root) => {
    await Deno.writeTextFile(join(root, "cluster.xml"), clusterXml([n1, n2]));
    await n1.ok("cluster", "config", "cluster.xml");
    const tree = join(root, "tree");
    await Deno.mkdir(join(tree, "conf"), { recursive: true });
    const xml = (rules: string) =>
      `<safe><service mode="mirror"><heart><heartbeat name="default"/></heart>\n<failover><![CDATA[\n${rules}\n]]></failover></service></safe>`;
    await Deno.writeTextFile(
      join(tree, "conf", "userconfig.xml"),
      xml("c_app: if (custom.app == down then restart();"),
    );
    await Deno.writeFile(join(root, "m.safe"), await packageModuleDir(tree));
    await n1.ok("module", "install", "-m", "m", join(root, "m.safe"));
    const bad = await n1.cli("config", "-m", "m");
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /^Error: .*userconfig\.xml:3:\d+: failover rule 'c_app': expected .*'\)'/m);
    await Deno.writeTextFile(
      join(n1.safe, "modules", "m", "conf", "userconfig.xml"),
      xml('--Lua Rules\nRules = Rules + { x=if_then("custom.a","down",Action.restart) }'),
    );
    const lua = await n1.cli("config", "-m", "m");
    assert.notEqual(lua.code, 0);
    assert.match(lua.stderr, /Lua/);
    assert.match(await n1.ok("state", "-m", "m"), /NOT CONFIGURED/);
  });
});
