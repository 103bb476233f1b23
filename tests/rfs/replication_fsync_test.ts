// An fsync op and <rfs async>: with "second" the secondary acknowledges receipt only, so the primary
// does not wait for an fsync op's ack (the acks of the ops before it said all there is to say); with
// "none" it waits until the secondary has fsync'ed.

import assert from "node:assert/strict";
import { ReplicationServer } from "../../src/rfs/replication_server.ts";
import { ReplicationClient } from "../../src/rfs/replication_client.ts";
import { openTreeRoot } from "../../src/rfs/beneath_root.ts";
import { CLUSTER_KEY, tempDirs } from "./protocol/loopback_fixture.ts";

const HOST = "127.0.0.92";

for (const asyncMode of ["second", "none"] as const) {
  Deno.test(`fsync op with async="${asyncMode}": ${asyncMode === "second" ? "not waited for" : "waited for"}`, async () => {
    const { dirs: [prim, sec], cleanup } = await tempDirs(2);
    await Deno.writeTextFile(`${prim}/f`, "");
    await Deno.writeTextFile(`${sec}/f`, "");
    const server = new ReplicationServer({
      hostname: HOST,
      port: 0,
      clusterKey: CLUSTER_KEY,
      module: "mirror",
      dirs: [sec],
      onSession: (s) => s.markSynced(),
    });
    server.start();
    const root = openTreeRoot(prim);
    const client = new ReplicationClient({
      host: HOST,
      port: server.port,
      clusterKey: CLUSTER_KEY,
      node: "node1",
      module: "mirror",
      roots: [root.fd],
      async: asyncMode,
      lockTimeoutMs: 5000,
      sendTimeoutMs: 5000,
    });
    try {
      await client.connect();
      for (let i = 0; i < 200 && client.needsResync; i++) await new Promise((r) => setTimeout(r, 5));
      await client.apply({ kind: "write", path: "f", offset: 0, data: new Uint8Array(10) });
      let settled = false;
      const p = client.apply({ kind: "fsync", path: "f", datasync: false }).then(() => (settled = true));
      // An ack needs I/O: it cannot arrive within microtasks.
      for (let i = 0; i < 10; i++) await Promise.resolve();
      assert.equal(settled, asyncMode === "second");
      await p;
      for (let i = 0; i < 200 && client.stats.opsAcked < 2; i++) await new Promise((r) => setTimeout(r, 5));
      assert.equal(client.stats.opsAcked, 2, "the fsync op was sent and acknowledged in both modes");
    } finally {
      await client.close();
      await server.close();
      root.close();
      await cleanup();
    }
  });
}
