// errd and the intf checker drive a real two-node mirror module. errd: the application started by
// start_prim is killed, errd logs it, calls a restart and start_prim runs again. intf (root, network
// namespaces): the primary's interface going down stops it into WAIT NotReady (the other node takes over),
// coming back up wakes it up (Implicit_wakeup).
import assert from "node:assert/strict";
import { join } from "node:path";
import { withNodes } from "./node_harness.ts";
import { mirrorSafe, MODULE, scriptRuns, setupMirror, waitLog, waitState } from "./mirror_harness.ts";
import { runChecked, systemCommands } from "../../src/net/host_commands.ts";
import { skipUnless } from "../support/privileges.ts";
import { createLab } from "../net/support/netns_lab.ts";
import { killNamespace, NetnsNodeService } from "../net/support/netns_node_service.ts";

const NODES: [string, string][] = [["node1", "127.0.0.2"], ["node2", "127.0.0.3"]];
const FAST_RULES = `<failover period="200ms" handle_time="400ms"/>`;

/** Pids whose command line contains `marker` (read from /proc, as errd itself does). */
async function pidsWith(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const cmd = await Deno.readTextFile(`/proc/${e.name}/cmdline`).catch(() => "");
    const stat = await Deno.readTextFile(`/proc/${e.name}/stat`).catch(() => "");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (cmd.split("\0").includes(marker) && state !== "Z") pids.push(Number(e.name));
  }
  return pids;
}

async function waitPids(marker: string, want: (n: number) => boolean, timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = await pidsWith(marker);
    if (want(pids.length) || Date.now() > deadline) return pids;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const record = `echo "$(date +%s%3N) $(basename "$0") $*" >> "$SAFEUSERVAR/scripts.log"`;

Deno.test("errd (class prim, action restart): the application killed is logged as not running and start_prim runs again", async () => {
  // GNU sleep reads every argument as a duration, so the marker errd's argregex looks for is a duration of
  // our own (about a week): another run's application is never counted nor killed.
  const marker = `${600_000 + Math.floor(Math.random() * 300_000)}`;
  try {
    await withNodes(NODES, async ([n1, n2], root) => {
      await setupMirror(n1, n2, root, {
        extra: `<errd polltimer="1s">
          <proc name="sleep" argregex="^${marker}$" atleast="1" action="restart" class="prim"/>
        </errd>${FAST_RULES}`,
        scripts: {
          // Detached in its own session, its output away from the script's pipes.
          start_prim: `#!/bin/sh\n${record}\nsetsid sleep ${marker} </dev/null >/dev/null 2>&1 &\nexit 0\n`,
          stop_prim: `#!/bin/sh\n${record}\npkill -9 -f '^sleep ${marker}$'\nexit 0\n`,
        },
      });
      await n1.ok("prim", "-m", MODULE);
      await waitState(n1, "ALONE Ready");
      const first = await waitPids(marker, (n) => n === 1);
      assert.equal(first.length, 1, "start_prim started the application once");
      await waitLog(n1, /Resource proc\.sleep set to up by errd/);
      // `errd list` prints SAFEVAR/modules/AM/errdlist: one line per monitored process.
      assert.match(
        await n1.ok("errd", "list", "-m", MODULE),
        /^proc\.sleep class=prim enabled=yes count=1 .*state=up/m,
      );

      Deno.kill(first[0], "SIGKILL");
      const log = await waitLog(n1, /Action restart called by errd/);
      assert.match(log, /Process sleep not running/);
      assert.match(await waitLog(n1, /Resource proc\.sleep set to down by errd/), /proc\.sleep/);

      // The restart: stop_prim then start_prim, and the application is back (a new process).
      const deadline = Date.now() + 15_000;
      let runs = await scriptRuns(n1);
      while (runs.filter((r) => r.script === "start_prim").length < 2 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        runs = await scriptRuns(n1);
      }
      // stop_prim (then stop_prim force), then start_prim, all called with the action "restart".
      const restart = runs.filter((r) => / restart$/.test(r.args)).map((r) => r.script);
      const all = runs.map((r) => `${r.script} ${r.args}`).join("\n");
      assert.equal(runs.filter((r) => r.script === "start_prim").length, 2, all);
      assert.equal(restart[0], "stop_prim", all);
      assert.equal(restart.at(-1), "start_prim", all);
      await waitState(n1, "ALONE Ready");
      const again = await waitPids(marker, (n) => n === 1);
      assert.equal(again.length, 1, "the application runs again after the restart");
      assert.notEqual(again[0], first[0]);
      await waitLog(n1, /Resource proc\.sleep set to up by errd[\s\S]*set to down[\s\S]*set to up by errd/);
      await n1.ok("stop", "-m", MODULE);
      await waitState(n1, "STOP NotReady");
      assert.deepEqual(await waitPids(marker, (n) => n === 0), [], "stop_prim killed the application");
    });
  } finally {
    for (const pid of await pidsWith(marker)) Deno.kill(pid, "SIGKILL");
  }
});

const WATCHED = "10.99.8.1";
const skipIntf = skipUnless({ root: true, commands: ["ip"] });

Deno.test({
  name: "intf checker on the primary's interface: carrier lost stops it into WAIT NotReady and the other " +
    "node takes over; carrier back wakes it up (Implicit_wakeup) as secondary",
  ignore: skipIntf !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // Each node service in a namespace of its own, so that intf watches that node's own eth0.
    const lab = await createLab({ node1: 2, node2: 3 }, { subnet: "10.99.7" });
    const root = await Deno.makeTempDir({ prefix: "safekit-intf-" });
    const [n1, n2] = Object.values(lab.hosts).map((h) => new NetnsNodeService(h.name, h, root));
    const peerLink = (state: "up" | "down") =>
      runChecked(systemCommands(), "ip", ["-n", `${lab.tag}-sw`, "link", "set", "pnode1", state]);
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
      // The configuration is shared by both nodes, so the watched address must be local on each: a /32 of
      // its own on each node's eth0, outside the lab subnet (nobody sends to it; only its interface counts).
      for (const n of [n1, n2]) {
        await runChecked(systemCommands(), "ip", [
          "-n",
          n.host.ns,
          "addr",
          "add",
          `${WATCHED}/32`,
          "dev",
          "eth0",
        ]);
      }
      const safe = await mirrorSafe(root, {
        extra:
          `<check><intf ident="lan" when="pre"><to local_addr="${WATCHED}"/></intf></check>${FAST_RULES}`,
      });
      await n1.ok("module", "install", "-m", MODULE, safe);
      await n1.ok("config", "-m", MODULE);
      await n1.ok("-H", "*", "-E", MODULE);
      await n1.ok("prim", "-m", MODULE);
      await n1.waitState(MODULE, "ALONE Ready");
      await waitLog(n1, /Resource intf\.lan set to up by intfcheck/);
      await n2.ok("second", "-m", MODULE);
      await n2.waitState(MODULE, "SECOND Ready");
      await n1.waitState(MODULE, "PRIM Ready");

      // node1's carrier goes (its bridge port down): its intf checker reports down and interface_failure
      // stops it into WAIT (from PRIM, or from ALONE when the heartbeat timeout came first); node2, without
      // heartbeats either, takes over alone.
      await peerLink("down");
      await waitLog(n1, /Resource intf\.lan set to down by intfcheck/);
      await n1.waitState(MODULE, "WAIT NotReady");
      const waited = await waitLog(n1, /Action wait from failover rule interface_failure/);
      assert.match(waited, /Script stop_prim/);
      await n2.waitState(MODULE, "ALONE Ready");

      await peerLink("up");
      await waitLog(n1, /Resource intf\.lan set to up by intfcheck/);
      await waitLog(n1, /Action wakeup from failover rule Implicit_wakeup/);
      await n1.waitState(MODULE, "SECOND Ready", 30_000);
      await n2.waitState(MODULE, "PRIM Ready");
      const runs = (await n1.scriptRuns(MODULE)).map((r) => `${r.script} ${r.args}`);
      assert.ok(runs.some((r) => /^stop_prim (PRIM|ALONE) WAIT stopwait/.test(r)), runs.join("\n"));
      assert.ok(!runs.some((r) => r.startsWith("poststop")), "a wait is not a stop: no poststop");
      assert.match(runs.at(-1) ?? "", /^start_second /, "back as secondary");
    } finally {
      for (const n of [n1, n2]) await killNamespace(n.host.ns).catch((e) => console.error(e));
      await lab.close();
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
});
