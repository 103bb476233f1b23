// An IPv6 farm VIP in a lab, driven through the runtime class the node service uses (FarmVips): three
// nodes hold fd99::50; their neighbour advertisements are rewritten to the virtual MAC, so the client knows
// the VIP by that MAC only and every node sees its traffic; nft hashes the source port (jhash tcp sport,
// family-independent) into buckets and each node accepts its own. Also: each node's device lists the
// virtual MAC in its unicast filter (vmac acceptance), and connections.<vip> counts a held connection on
// the node that accepted it. Namespaces: skh7-*.
import assert from "node:assert/strict";
import type { VipConfig } from "../../src/config/module_types.ts";
import { assignBuckets, bucketsOf, type FarmGroup } from "../../src/core/farm_buckets.ts";
import { FarmVips, VipConnectionCounter } from "../../src/daemon/vip_runtime.ts";
import { runChecked } from "../../src/net/host_commands.ts";
import { deviceUnicastAddresses } from "../../src/net/virtual_mac_acceptance.ts";
import { skipUnless } from "../support/privileges.ts";
import { createLab, neighbourMac, spawnInNetns } from "./support/netns_lab.ts";

const VIP = "fd99::50";
const VMAC = "5a:fe:00:00:00:50"; // default: 5a:fe + the VIP's last 4 bytes
const PORT = 8080;
const skip = skipUnless({ root: true, commands: ["ip", "nft", "bridge", "ss"] });

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
    virtualAddrs: [{ addr: VIP, where: "alias", check: true, connections: true }],
  }],
  loadBalancing: [{
    name: "FarmProto",
    hosts: [],
    rules: [{ virtualAddr: "*", port: PORT, proto: "tcp", filter: "on_port" }],
  }],
};
const group: FarmGroup = { name: "FarmProto", powers: { a: 1, b: 1, c: 1 } };

function assertShares(counts: Record<string, number>, expected: Record<string, number>, total: number) {
  const unanswered = Object.keys(counts).filter((k) => !k.startsWith("node-"));
  assert.deepEqual(unanswered, [], `every connection is answered: ${JSON.stringify(counts)}`);
  for (const [node, share] of Object.entries(expected)) {
    const n = counts[`node-${node}`] ?? 0;
    assert.ok(Math.abs(n - share * total) <= 0.1 * share * total, `node ${node}: ${n} of ${total}`);
  }
}

Deno.test({
  name: "IPv6 farm VIP: announced by the virtual MAC, 3000 connections spread over 3 nodes, one answer each",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const lab = await createLab({ a: 1, b: 2, c: 3, client: 100 }, { subnet6: "fd99:", tagPrefix: "skh7-" });
    const nodes = ["a", "b", "c"].map((n) => lab.hosts[n]);
    const client = lab.hosts.client;
    const logs: string[] = [];
    const vips = nodes.map((n) =>
      new FarmVips("farm6", vipConfig, (l, m) => logs.push(`${n.name} ${l} ${m}`), n.cmds)
    );
    const procs = nodes.map((n) => spawnInNetns(n.ns, "name_server.ts", [`node-${n.name}`, `${PORT}`, "::"]));
    try {
      for (const p of procs) assert.equal(await p.next(15000), "ready");
      const three = assignBuckets(group, ["a", "b", "c"]);
      for (const [k, v] of vips.entries()) {
        await v.setBuckets("FarmProto", bucketsOf(three, nodes[k].name));
        await v.open();
      }
      assert.deepEqual(logs.filter((l) => / [EC] /.test(l)), [], "no error while opening");
      for (const n of nodes) {
        assert.ok((await deviceUnicastAddresses(n.cmds, "eth0")).includes(VMAC), `${n.name} accepts ${VMAC}`);
        assert.match(
          await runChecked(n.cmds, "nft", ["list", "chain", "inet", "safekit_farm6", "announce6"]),
          /nd-neighbor-advert/,
        );
      }

      const run = async (total: number) => {
        const c = spawnInNetns(client.ns, "tcp_client.ts", ["count", VIP, `${PORT}`, `${total}`, "16"]);
        procs.push(c);
        return JSON.parse(await c.next(60000)) as Record<string, number>;
      };
      const t0 = Date.now();
      const counts = await run(3000);
      console.log(`IPv6, 3 nodes, 3000 connections in ${Date.now() - t0} ms: ${JSON.stringify(counts)}`);
      assertShares(counts, { a: 1 / 3, b: 1 / 3, c: 1 / 3 }, 3000);
      assert.equal(await neighbourMac(client, VIP), VMAC, "the client knows the IPv6 VIP by the virtual MAC");

      // connections.<vip>: a held connection is counted on the node that accepted it, not elsewhere
      const held = spawnInNetns(client.ns, "tcp_client.ts", ["hold", VIP, `${PORT}`]);
      procs.push(held);
      const owner = (await held.next(15000)).replace("connected node-", "");
      for (const n of nodes) {
        const seen = new Map<string, string>();
        const counter = new VipConnectionCounter(
          vipConfig,
          (name, value) => seen.set(name, value),
          () => {},
          n.cmds,
        );
        await counter.countNow();
        assert.equal(seen.get(`connections.${VIP}`), n.name === owner ? "1" : "0", `node ${n.name}`);
      }
      await held.kill();

      // node c leaves: a and b take its buckets; c's filter, virtual MAC entry and VIP go
      const two = assignBuckets(group, ["a", "b"]);
      await vips[0].setBuckets("FarmProto", bucketsOf(two, "a"));
      await vips[1].setBuckets("FarmProto", bucketsOf(two, "b"));
      await vips[2].remove();
      assert.ok(!(await deviceUnicastAddresses(nodes[2].cmds, "eth0")).includes(VMAC), "c released the MAC");
      const after = await run(1500);
      console.log(`IPv6, after c left, 1500 connections: ${JSON.stringify(after)}`);
      assert.equal(after["node-c"] ?? 0, 0);
      assertShares(after, { a: 1 / 2, b: 1 / 2 }, 1500);
    } finally {
      for (const p of procs) await p.kill();
      for (const v of vips) await v.remove().catch(() => {});
      await lab.close();
    }
  },
});
