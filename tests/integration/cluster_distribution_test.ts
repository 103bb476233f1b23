// `cluster genkey` + `-H "*" -G`: the new key and cluster.xml reach every node, signed with the key the
// targets still hold; a locked node refuses; hostile UDP packets on the membership port are dropped and
// counted without changing the view.
import assert from "node:assert/strict";
import { join } from "node:path";
import dgram from "node:dgram";
import { clusterXml, withNodes } from "./node_harness.ts";

Deno.test("genkey then -G gives every node the new key; a locked node refuses the push", async () => {
  await withNodes([["node1", "127.0.0.2"], ["node2", "127.0.0.3"]], async ([n1, n2], root) => {
    await Deno.writeTextFile(join(root, "cluster.xml"), clusterXml([n1, n2]));
    await n1.ok("cluster", "config", "cluster.xml");
    await n1.ok("cluster", "export", "bundle.zip");
    await n2.ok("cluster", "config", "bundle.zip");
    const key1 = () => Deno.readTextFile(join(n1.safevar, "cluster", "cluster.key"));
    const key2 = () => Deno.readTextFile(join(n2.safevar, "cluster", "cluster.key"));
    const old = await key1();

    await n1.ok("cluster", "genkey");
    assert.notEqual(await key1(), old);
    assert.equal(await key2(), old);
    const pushed = await n1.ok("-H", "*", "-G");
    assert.match(pushed, /Server=http:\/\/127\.0\.0\.3:9010 -+\ncluster configuration applied/);
    assert.equal(await key2(), await key1());

    // A node whose configuration is locked keeps it.
    await n2.ok("cluster", "config", "lock");
    const xml2 = clusterXml([n1, n2]).replace("<lans>", '<lans pulse="200">');
    await Deno.writeTextFile(join(root, "cluster2.xml"), xml2);
    await n1.ok("cluster", "config", "cluster2.xml");
    const refused = await n1.cli("-H", "node2", "-G");
    assert.notEqual(refused.code, 0);
    assert.match(refused.stdout, /locked/);
    const rows = JSON.parse(await n1.ok("cluster", "confinfo", "--json")) as {
      node: string;
      signature: string;
    }[];
    assert.notEqual(rows[0].signature, rows[1].signature);
  });
});

Deno.test("hostile membership packets are dropped and counted; the view does not change", async () => {
  await withNodes([["node1", "127.0.0.2"], ["node2", "127.0.0.3"]], async ([n1, n2], root) => {
    await Deno.writeTextFile(join(root, "cluster.xml"), clusterXml([n1, n2]));
    await n1.ok("cluster", "config", "cluster.xml");
    await n1.ok("cluster", "export", "bundle.zip");
    await n2.ok("cluster", "config", "bundle.zip");
    const membership = async () => {
      const r = await n1.api<{ nodes: { node: string; up: boolean }[]; counters: Record<string, number> }>(
        "/api/v1/cluster/membership",
      );
      if (!r || r.status !== 200) throw new Error(`membership: ${JSON.stringify(r)}`);
      return r.body;
    };
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !(await membership()).nodes.every((n: { up: boolean }) => n.up)) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const before = await membership();
    const sock = dgram.createSocket("udp4");
    await new Promise<void>((r) => sock.bind(0, "127.0.0.9", () => r()));
    const junk = [
      new Uint8Array(0),
      new Uint8Array(3),
      crypto.getRandomValues(new Uint8Array(200)),
      new Uint8Array(9000),
      new TextEncoder().encode("SKv1 but not really a frame at all"),
    ];
    for (let i = 0; i < 50; i++) {
      await new Promise<void>((r) => sock.send(junk[i % junk.length], 4800, "127.0.0.2", () => r()));
    }
    sock.close();
    await new Promise((r) => setTimeout(r, 500));
    const after = await membership();
    const droppedBefore = Object.entries(before.counters).filter(([k]) => k.startsWith("dropped_"))
      .reduce((a, [, v]) => a + (v as number), 0);
    const droppedAfter = Object.entries(after.counters).filter(([k]) => k.startsWith("dropped_"))
      .reduce((a, [, v]) => a + (v as number), 0);
    assert.ok(droppedAfter - droppedBefore >= 49, JSON.stringify(after.counters));
    assert.deepEqual(after.nodes, before.nodes);
  });
});
