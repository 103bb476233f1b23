import assert from "node:assert/strict";
import { rebootCommands, rebootLog } from "../../src/core/maxloop_reboot.ts";
import { initialMaxloopState, maxloopStep, restoreMaxloopState } from "../../src/core/maxloop.ts";

Deno.test("automatic_reboot: Linux reboots through systemctl, then /sbin/reboot, never a forced reboot", () => {
  assert.deepEqual(rebootCommands(undefined, "linux"), [["systemctl", "reboot"], ["/sbin/reboot"]]);
  assert.ok(!rebootCommands(undefined, "linux").flat().includes("-f"));
});

Deno.test("automatic_reboot: SAFEKIT_REBOOT_COMMAND replaces the default, split on white space", () => {
  assert.deepEqual(rebootCommands("  /opt/site/reboot.sh   --notify ops ", "linux"), [
    ["/opt/site/reboot.sh", "--notify", "ops"],
  ]);
  assert.deepEqual(
    rebootCommands("   ", "linux"),
    [["systemctl", "reboot"], ["/sbin/reboot"]],
    "blank = unset",
  );
});

Deno.test("automatic_reboot: Windows reboots with shutdown /r", () => {
  assert.equal(rebootCommands(undefined, "windows")[0][0], "shutdown.exe");
  assert.ok(rebootCommands(undefined, "windows")[0].includes("/r"));
});

Deno.test("maxloop: a detector's stopstart with automatic_reboot gives the reboot log line of its identity", () => {
  const out = maxloopStep(
    initialMaxloopState(),
    { kind: "action", action: "stopstart", identity: "c_app" },
    0,
    {
      maxLoop: 3,
      loopIntervalMs: 3600_000,
      automaticReboot: true,
    },
  );
  assert.deepEqual(out.effects[0], { kind: "reboot", log: rebootLog("c_app") });
  assert.equal(rebootLog("c_app"), "Reboot of the server by automatic_reboot (stopstart from c_app)");
});

Deno.test("maxloop: the counter restored after a reboot keeps counting toward the stop", () => {
  const config = { maxLoop: 1, loopIntervalMs: 3600_000, automaticReboot: true };
  const since = 1_700_000_000_000;
  const first = maxloopStep(
    initialMaxloopState(),
    { kind: "action", action: "stopstart", identity: "t" },
    since,
    config,
  );
  assert.equal(first.effects[0].kind, "reboot");
  // What the node service finds in resource.db after the reboot.
  const restored = restoreMaxloopState(String(since / 1000), String(first.state.count));
  assert.deepEqual(restored, first.state);
  const second = maxloopStep(
    restored,
    { kind: "action", action: "stopstart", identity: "t" },
    since + 60_000,
    config,
  );
  assert.equal(second.effects[0].kind, "stop", "the 2nd detection with maxloop 1 stops instead of rebooting");
});

Deno.test("maxloop: a missing, reset or corrupt persisted counter restores as reset", () => {
  for (const [since, count] of [[undefined, undefined], ["0", "0"], ["abc", "2"], ["1700000000", "-1"]]) {
    assert.deepEqual(restoreMaxloopState(since, count), initialMaxloopState(), `${since} ${count}`);
  }
});
