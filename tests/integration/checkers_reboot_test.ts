// automatic_reboot on a real mirror module: a detector's stopstart with automatic_reboot="on" stops the
// module, then runs the reboot command. The node service gets SAFEKIT_REBOOT_COMMAND pointing at a recorder,
// so the test machine is never rebooted.
import assert from "node:assert/strict";
import { join } from "node:path";
import { TestNode } from "./node_harness.ts";
import { MODULE, scriptRuns, setupMirror, waitLog, waitState } from "./mirror_harness.ts";
import { waitPortsFree } from "../support/ports.ts";

const NODES: [string, string][] = [["node1", "127.0.0.61"], ["node2", "127.0.0.62"]];
const FAST_RULES = `<failover period="200ms" handle_time="400ms"/>`;

/** A node service whose environment names the reboot command. */
class RebootRecordingNode extends TestNode {
  constructor(name: string, addr: string, root: string, readonly rebootCommand: string) {
    super(name, addr, root);
  }
  override get env(): Record<string, string> {
    return { ...super.env, SAFEKIT_REBOOT_COMMAND: this.rebootCommand };
  }
}

async function readLines(file: string): Promise<string[]> {
  return (await Deno.readTextFile(file).catch(() => "")).split("\n").filter(Boolean);
}

Deno.test("automatic_reboot=on: a detector's stopstart stops the module, logs the reboot, then runs the reboot command", async () => {
  await waitPortsFree(NODES.map(([, a]) => a), 9010);
  const root = await Deno.makeTempDir({ prefix: "safekit-reboot-" });
  const record = join(root, "reboots.log");
  const recorder = join(root, "record-reboot");
  await Deno.writeTextFile(recorder, `#!/bin/sh\necho "$(date +%s%3N) $*" >> '${record}'\n`, { mode: 0o755 });
  await Deno.chmod(recorder, 0o755);
  const nodes = NODES.map(([n, a]) => new RebootRecordingNode(n, a, root, `${recorder} --from-safekit`));
  const [n1, n2] = nodes;
  try {
    await Promise.all(nodes.map((n) => n.start()));
    await setupMirror(n1, n2, root, {
      serviceAttrs: `automatic_reboot="on"`,
      extra:
        `<check><custom ident="app" when="prim" exec="sleeper" action="stopstart"/></check>${FAST_RULES}`,
      scripts: { sleeper: "#!/bin/sh\nexec sleep 600\n" },
    });
    await n1.ok("prim", "-m", MODULE);
    await waitState(n1, "ALONE Ready");
    await n1.ok("set", "-m", MODULE, "-r", "custom.app", "-v", "down", "-i", "app");

    const log = await waitLog(n1, /Reboot of the server by automatic_reboot \(stopstart from c_app\)/);
    await waitState(n1, "STOP NotReady");
    const deadline = Date.now() + 10_000;
    while ((await readLines(record)).length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const reboots = await readLines(record);
    assert.equal(reboots.length, 1, "the reboot command ran once");
    assert.match(reboots[0], / --from-safekit$/, "with the arguments of SAFEKIT_REBOOT_COMMAND");
    const rebootAt = Number(reboots[0].split(" ")[0]);
    const runs = await scriptRuns(n1);
    const poststop = runs.find((r) => r.script === "poststop");
    assert.ok(poststop, runs.map((r) => r.script).join(" "));
    assert.ok(poststop.at <= rebootAt, "the module was stopped (poststop ran) before the reboot");
    assert.ok(!runs.some((r) => r.script === "start_prim" && r.at > poststop.at), "no start after the stop");
    assert.match(log, /Action stop called by automatic_reboot/);
    assert.match(await waitLog(n1, /Reboot requested by automatic_reboot/), /record-reboot --from-safekit/);
    // The counter is kept in resource.db, so that the node coming back from the reboot goes on counting.
    assert.equal(
      (await n1.ok("get", "-m", MODULE, "-r", "heart.stopstartcount")).trim(),
      "1",
      await n1.ok("log", "-m", MODULE, "-A", "-s", "60"),
    );
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
});
