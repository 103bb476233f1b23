// VIP failover in a lab of network namespaces: vip_manager moves the address, garp.ts announces it, and the
// client's neighbour entry and TCP connections follow within 2 s; tcpreset resets connections on removal.
import assert from "node:assert/strict";
import { announceAddress } from "../../src/net/garp.ts";
import { addressPresence } from "../../src/net/ip_presence.ts";
import { addVip, removeVip } from "../../src/net/vip_manager.ts";
import { skipUnless } from "../support/privileges.ts";
import { createLab, LAB_SUBNET, neighbourMac, spawnInNetns } from "./support/netns_lab.ts";

const VIP = `${LAB_SUBNET}.50`;
const PORT = 8080;
const skip = skipUnless({ root: true, commands: ["ip", "ss"] });

Deno.test({
  name:
    "VIP moves from node A to node B: the client's neighbour entry and TCP follow within 2 s; tcpreset resets",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const lab = await createLab({ a: 1, b: 2, client: 100 });
    const { a, b, client } = lab.hosts;
    const procs = [
      spawnInNetns(a.ns, "name_server.ts", ["node-a", `${PORT}`]),
      spawnInNetns(b.ns, "name_server.ts", ["node-b", `${PORT}`]),
    ];
    try {
      for (const p of procs) assert.equal(await p.next(15000), "ready");

      // 1. VIP on A (auto-detected interface, the subnet's prefix), announced: the client reaches A.
      const added = await addVip(a.cmds, { addr: VIP });
      assert.deepEqual(added, {
        changed: true,
        placement: { ifname: "eth0", family: 4, addr: VIP, prefixLen: 24 },
      });
      assert.equal((await addVip(a.cmds, { addr: VIP })).changed, false, "adding twice changes nothing");
      assert.equal((await addressPresence(a.cmds, VIP)).present, true);
      assert.equal((await addressPresence(b.cmds, VIP)).present, false);
      const sent = await announceAddress({ ifname: "eth0", addr: VIP, netns: a.ns });
      assert.equal(sent.ifMac, a.mac);
      const hold = spawnInNetns(client.ns, "tcp_client.ts", ["hold", VIP, `${PORT}`]);
      procs.push(hold);
      assert.equal(await hold.next(15000), "connected node-a");
      assert.equal(await neighbourMac(client, VIP), a.mac);

      // 2. Move to B. The probe starts first so its own start-up is not counted in the 2 s.
      const probe = spawnInNetns(client.ns, "tcp_client.ts", ["probe", VIP, `${PORT}`, "node-b", "20000"]);
      procs.push(probe);
      assert.equal(await probe.next(15000), "ready");
      const movedAt = Date.now();
      const removed = await removeVip(a.cmds, VIP, { tcpReset: true });
      assert.equal(removed.changed, true);
      // The held connection, and perhaps one of the probe's short connections still open on A at that moment.
      assert.ok((removed.tcpReset?.before ?? 0) >= 1, JSON.stringify(removed.tcpReset));
      assert.equal(removed.tcpReset?.remaining, 0);
      assert.equal(
        (await removeVip(a.cmds, VIP, { tcpReset: true })).changed,
        false,
        "removing twice is a no-op",
      );
      await addVip(b.cmds, { addr: VIP });
      await announceAddress({ ifname: "eth0", addr: VIP, netns: b.ns });
      const reached = JSON.parse(await probe.next(5000)) as { at: number | null };
      assert.notEqual(reached.at, null, "node B never answered on the VIP");
      const elapsed = reached.at! - movedAt;
      console.log(`VIP moved A -> B: TCP to the VIP answered by B after ${elapsed} ms`);
      assert.ok(elapsed < 2000, `took ${elapsed} ms`);
      assert.equal(await neighbourMac(client, VIP), b.mac);

      // 3. tcpreset: the connection held to A was reset by `ss -K`, not left to time out.
      assert.equal(await hold.next(2000), "ConnectionReset");
    } finally {
      for (const p of procs) await p.kill();
      await lab.close();
    }
  },
});

Deno.test({
  name: "without tcpreset a connection to the removed VIP is not reset",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const lab = await createLab({ a: 1, client: 100 });
    const { a, client } = lab.hosts;
    const procs = [spawnInNetns(a.ns, "name_server.ts", ["node-a", `${PORT}`])];
    try {
      assert.equal(await procs[0].next(15000), "ready");
      await addVip(a.cmds, { addr: VIP, interfaceName: "eth0", netmask: "255.255.255.0" });
      const hold = spawnInNetns(client.ns, "tcp_client.ts", ["hold", VIP, `${PORT}`]);
      procs.push(hold);
      assert.equal(await hold.next(15000), "connected node-a");
      const removed = await removeVip(a.cmds, VIP, { tcpReset: false });
      assert.equal(removed.tcpReset, undefined);
      await assert.rejects(hold.next(1000), /no output within/);
    } finally {
      for (const p of procs) await p.kill();
      await lab.close();
    }
  },
});
