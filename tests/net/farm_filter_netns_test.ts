// The farm filter in a lab: three nodes hold the VIP behind one virtual MAC, each accepts only the buckets
// assignBuckets gives it; a client's connections are spread evenly and each is answered by exactly one node.
// Then node c leaves: its buckets go to a and b in one nft transaction each.
import assert from "node:assert/strict";
import type { VipConfig } from "../../src/config/module_types.ts";
import { assignBuckets, bucketsOf, type FarmGroup } from "../../src/core/farm_buckets.ts";
import { applyFarmFilter, removeFarmFilter, setFarmBuckets } from "../../src/net/farm_filter_driver.ts";
import { announceAddress } from "../../src/net/garp.ts";
import { farmFilterSpecFromConfig, farmTableName } from "../../src/net/nft_farm_filter.ts";
import { addVip, removeVip } from "../../src/net/vip_manager.ts";
import { skipUnless } from "../support/privileges.ts";
import { createLab, LAB_SUBNET, neighbourMac, spawnInNetns } from "./support/netns_lab.ts";

const VIP = `${LAB_SUBNET}.50`;
const PORT = 8080;
const VMAC = "5a:fe:0a:63:00:32";
const skip = skipUnless({ root: true, commands: ["ip", "nft"] });

const vipConfig: VipConfig = {
  tcpReset: true,
  scriptControl: false,
  interfaces: [{
    check: true,
    arpReroute: false,
    arpIntervalMs: 60_000,
    arpElapseMs: 1_200_000,
    kind: "virtual",
    virtualInterfaceType: "vmac_invisible",
    virtualAddrs: [{ addr: VIP, where: "alias", check: true, connections: false }],
  }],
  loadBalancing: [{
    name: "FarmProto",
    hosts: [],
    rules: [{ virtualAddr: "*", port: PORT, proto: "tcp", filter: "on_port" }],
  }],
};
const group: FarmGroup = { name: "FarmProto", powers: { a: 1, b: 1, c: 1 } };

function assertShares(counts: Record<string, number>, expected: Record<string, number>, total: number) {
  const answered = Object.entries(counts).filter(([k]) => k.startsWith("node-"));
  assert.deepEqual(
    Object.keys(counts).filter((k) => !k.startsWith("node-")),
    [],
    `every connection is answered: ${JSON.stringify(counts)}`,
  );
  assert.equal(answered.reduce((s, [, n]) => s + n, 0), total);
  for (const [node, share] of Object.entries(expected)) {
    const n = counts[`node-${node}`] ?? 0;
    assert.ok(
      Math.abs(n - share * total) <= 0.1 * share * total,
      `node ${node}: ${n} of ${total} (${JSON.stringify(counts)})`,
    );
  }
}

Deno.test({
  name:
    "farm filter: 3 nodes share 3000 connections evenly, one answer each; a leaver's share moves to the others",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const lab = await createLab({ a: 1, b: 2, c: 3, client: 100 });
    const nodes = ["a", "b", "c"].map((n) => lab.hosts[n]);
    const client = lab.hosts.client;
    const table = farmTableName("farm");
    const procs = nodes.map((n) => spawnInNetns(n.ns, "name_server.ts", [`node-${n.name}`, `${PORT}`]));
    try {
      for (const p of procs) assert.equal(await p.next(15000), "ready");
      const three = assignBuckets(group, ["a", "b", "c"]);
      for (const n of nodes) {
        const placed = await addVip(n.cmds, { addr: VIP });
        const spec = farmFilterSpecFromConfig(
          "farm",
          { ...vipConfig, interfaces: [{ ...vipConfig.interfaces[0], virtualMac: VMAC }] },
          () => placed.placement!.ifname,
          () => bucketsOf(three, n.name),
        );
        await applyFarmFilter(n.cmds, spec);
      }
      // Announced with the virtual MAC from node a's real MAC; ordinary ARP replies say the same.
      await announceAddress({ ifname: "eth0", addr: VIP, advertisedMac: VMAC, netns: nodes[0].ns });

      const run = async (total: number) => {
        const c = spawnInNetns(client.ns, "tcp_client.ts", ["count", VIP, `${PORT}`, `${total}`, "16"]);
        procs.push(c);
        return JSON.parse(await c.next(60000)) as Record<string, number>;
      };
      const t0 = Date.now();
      const counts = await run(3000);
      console.log(`3 nodes, 3000 connections in ${Date.now() - t0} ms: ${JSON.stringify(counts)}`);
      assertShares(counts, { a: 1 / 3, b: 1 / 3, c: 1 / 3 }, 3000);
      assert.equal(await neighbourMac(client, VIP), VMAC, "the client knows the VIP by its virtual MAC only");

      // Buckets move between live nodes: a flow established on one node stays there (conntrack), and the
      // new owner ignores it instead of resetting it.
      const held = spawnInNetns(client.ns, "tcp_client.ts", ["hold-echo", VIP, `${PORT}`, "700"]);
      procs.push(held);
      const owner = (await held.next(15000)).replace("connected node-", "");
      assert.ok(["a", "b", "c"].includes(owner), `held connection answered by ${owner}`);
      const heir = nodes.find((n) => n.name !== owner)!;
      await setFarmBuckets(lab.hosts[owner].cmds, table, 0, []);
      await setFarmBuckets(heir.cmds, table, 0, Array.from({ length: 256 }, (_, i) => i));
      assert.equal(await held.next(5000), "echo ping", "the established flow survives the bucket move");
      for (const n of nodes) await setFarmBuckets(n.cmds, table, 0, bucketsOf(three, n.name));

      // Node c leaves: a and b take its buckets (one transaction each), c drops its filter and its VIP.
      const two = assignBuckets(group, ["a", "b"]);
      await setFarmBuckets(nodes[0].cmds, table, 0, bucketsOf(two, "a"));
      await setFarmBuckets(nodes[1].cmds, table, 0, bucketsOf(two, "b"));
      await removeFarmFilter(nodes[2].cmds, table);
      await removeFarmFilter(nodes[2].cmds, table); // idempotent
      await removeVip(nodes[2].cmds, VIP, { tcpReset: true });
      const after = await run(1500);
      console.log(`after c left, 1500 connections: ${JSON.stringify(after)}`);
      assert.equal(after["node-c"] ?? 0, 0);
      assertShares(after, { a: 1 / 2, b: 1 / 2 }, 1500);
    } finally {
      for (const p of procs) await p.kill();
      await lab.close();
    }
  },
});
