// IPv6 VIP move: the unsolicited neighbour advertisement sent by garp.ts repoints the client's neighbour
// entry at once, without any traffic from the client.
import assert from "node:assert/strict";
import { runChecked } from "../../src/net/host_commands.ts";
import { announceAddress } from "../../src/net/garp.ts";
import { addVip, removeVip } from "../../src/net/vip_manager.ts";
import { skipUnless } from "../support/privileges.ts";
import { createLab, neighbourMac } from "./support/netns_lab.ts";

const VIP6 = "fd00:99::50";
const skip = skipUnless({ root: true, commands: ["ip", "ping"] });

Deno.test({
  name: "IPv6 VIP moved from A to B: the unsolicited NA switches the client's neighbour entry to B",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const lab = await createLab({ a: 1, b: 2, client: 100 });
    const { a, b, client } = lab.hosts;
    try {
      for (const [h, last] of [[a, 1], [b, 2], [client, 100]] as const) {
        await runChecked(h.cmds, "ip", ["addr", "add", `fd00:99::${last}/64`, "dev", "eth0", "nodad"]);
      }
      const added = await addVip(a.cmds, { addr: VIP6 });
      assert.deepEqual(added.placement, { ifname: "eth0", family: 6, addr: VIP6, prefixLen: 64 });
      await runChecked(client.cmds, "ping", ["-6", "-c", "1", "-W", "2", VIP6]);
      assert.equal(await neighbourMac(client, VIP6), a.mac);

      await removeVip(a.cmds, VIP6, { tcpReset: true });
      await addVip(b.cmds, { addr: VIP6 });
      const sent = await announceAddress({ ifname: "eth0", addr: VIP6, netns: b.ns });
      assert.equal(sent.advertisedMac, b.mac);
      let mac: string | null = null;
      for (let i = 0; i < 20 && mac !== b.mac; i++) {
        await new Promise((r) => setTimeout(r, 25));
        mac = await neighbourMac(client, VIP6);
      }
      assert.equal(mac, b.mac, "the client's entry still points at A");
    } finally {
      await lab.close();
    }
  },
});
