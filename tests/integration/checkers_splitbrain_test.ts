// The <splitbrain> checker on a real two-node mirror module, each node service in its own network
// namespace and a witness host in a third, all on one bridge. Cutting a node's bridge port isolates it
// from both its peer and the witness: that node must not be (or stay) primary — splitbrain.uptodate goes
// down and splitbrain_failure stops it into WAIT — while its peer, which still reaches the witness, goes
// ALONE. The witness alone failing changes nothing; the heartbeats coming back wake the isolated node up
// as secondary.
import assert from "node:assert/strict";
import { join } from "node:path";
import { mirrorSafe, MODULE, waitLog } from "./mirror_harness.ts";
import { runChecked, systemCommands } from "../../src/net/host_commands.ts";
import { skipUnless } from "../support/privileges.ts";
import { createLab } from "../net/support/netns_lab.ts";
import { killNamespace, NetnsNodeService } from "../net/support/netns_node_service.ts";

const FAST_RULES = `<failover period="200ms" handle_time="400ms"/>`;
const skip = skipUnless({ root: true, commands: ["ip"] });

async function uptodate(node: NetnsNodeService): Promise<string> {
  return (await node.ok("get", "-m", MODULE, "-r", "splitbrain.uptodate")).trim();
}

Deno.test({
  name: "splitbrain checker: the node cut from its peer and the witness goes WAIT (primary or secondary); " +
    "the one that reaches the witness goes ALONE; a witness outage alone changes nothing",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const lab = await createLab({ node1: 61, node2: 62, wit: 63 }, { subnet: "10.99.61" });
    const root = await Deno.makeTempDir({ prefix: "safekit-splitbrain-" });
    const [n1, n2] = [lab.hosts.node1, lab.hosts.node2].map((h) => new NetnsNodeService(h.name, h, root));
    const port = (name: string, state: "up" | "down") =>
      runChecked(systemCommands(), "ip", ["-n", `${lab.tag}-sw`, "link", "set", `p${name}`, state]);
    try {
      await Promise.all([n1.start(), n2.start()]);
      await Deno.writeTextFile(
        join(root, "cluster.xml"),
        `<cluster><lans><lan name="default">${
          [n1, n2].map((n) => `<node name="${n.name}" addr="${n.host.ip}"/>`).join("")
        }</lan></lans></cluster>`,
      );
      await n1.ok("cluster", "config", "cluster.xml");
      await n1.ok("cluster", "export", "bundle.zip");
      await n2.ok("cluster", "config", "bundle.zip");
      const safe = await mirrorSafe(root, {
        extra:
          `<check><splitbrain ident="witness" exec="ping" arg="${lab.hosts.wit.ip}"/></check>${FAST_RULES}`,
      });
      await n1.ok("module", "install", "-m", MODULE, safe);
      await n1.ok("config", "-m", MODULE);
      await n1.ok("-H", "*", "-E", MODULE);
      await n1.ok("prim", "-m", MODULE);
      await n1.waitState(MODULE, "ALONE Ready");
      await n2.ok("second", "-m", MODULE);
      await n2.waitState(MODULE, "SECOND Ready");
      await n1.waitState(MODULE, "PRIM Ready");
      await waitLog(n1, /Resource splitbrain\.witness set to up by splitbraincheck/);

      // The witness alone going away (heartbeats fine): no isolation, nobody moves.
      await port("wit", "down");
      await waitLog(n1, /Resource splitbrain\.witness set to down by splitbraincheck/, 20_000);
      assert.equal(await uptodate(n1), "up");
      assert.equal((await n1.state(MODULE))?.local, "PRIM");
      assert.equal((await n2.state(MODULE))?.local, "SECOND");
      await port("wit", "up");

      // The primary isolated: it must not stay primary; the secondary, reaching the witness, takes over.
      await port("node1", "down");
      await n2.waitState(MODULE, "ALONE Ready");
      const isolated = await waitLog(n1, /Resource splitbrain\.uptodate set to down by splitbraincheck/);
      assert.match(isolated, /Peer lost and no witness answered/);
      await n1.waitState(MODULE, "WAIT NotReady");
      assert.match(
        await waitLog(n1, /Action wait from failover rule splitbrain_failure/),
        /Script stop_prim/,
      );
      assert.equal(await uptodate(n2), "up", "node2 reached the witness: it may be primary");
      // Still isolated a while later: it stays out, even as its witness probe keeps failing.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal((await n1.state(MODULE))?.local, "WAIT");

      // Heartbeats back: node1 wakes up and rejoins as secondary of node2.
      await port("node1", "up");
      await waitLog(n1, /Resource splitbrain\.uptodate set to up by splitbraincheck/);
      await n1.waitState(MODULE, "SECOND Ready", 30_000);
      await n2.waitState(MODULE, "PRIM Ready");

      // The secondary isolated: it asks the witnesses before taking over, gets no answer, and ends in WAIT
      // without ever having been ALONE (the application never started on the isolated side).
      const takeovers = (log: string) => log.split("Action alone called by heart: no heartbeat").length - 1;
      const before = takeovers(await waitLog(n1, /Local state SECOND Ready/));
      await port("node1", "down");
      await waitLog(n1, /asking the splitbrain witnesses before taking over/, 20_000);
      await n1.waitState(MODULE, "WAIT NotReady", 30_000);
      const after = await waitLog(n1, /Local state WAIT NotReady/);
      const sinceCut = after.slice(after.lastIndexOf("asking the splitbrain witnesses before taking over"));
      assert.match(sinceCut, /Action wait from failover rule splitbrain_failure/);
      assert.equal(takeovers(after), before, "the isolated secondary did not take over");
      await n2.waitState(MODULE, "ALONE Ready");
      assert.equal(await uptodate(n2), "up");
    } finally {
      await port("node1", "up").catch(() => {});
      for (const n of [n1, n2]) await killNamespace(n.host.ns).catch((e) => console.error(e));
      await lab.close();
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
});
