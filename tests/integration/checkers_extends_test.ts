// <failover extends="no"> on a real mirror module: the user's rules replace the default and generated
// ones. A custom checker with action="wait" (generated rule c_app) and an ip checker on an address that is
// not configured (static rule ip_failure, stopstart) would keep the module from running with the defaults;
// with extends="no" only the user's rule acts.
import assert from "node:assert/strict";
import { withNodes } from "./node_harness.ts";
import { MODULE, scriptRuns, setupMirror, waitLog, waitState } from "./mirror_harness.ts";

const NODES: [string, string][] = [["node1", "127.0.0.61"], ["node2", "127.0.0.62"]];

Deno.test(`failover extends="no": the default and generated rules are gone, the user's rule acts`, async () => {
  await withNodes(NODES, async ([n1, n2], root) => {
    await setupMirror(n1, n2, root, {
      extra: `<check>
          <custom ident="app" when="pre" exec="sleeper" action="wait"/>
          <ip ident="novip" when="prim"><to addr="10.254.254.254" interval="1s"/></ip>
        </check>
        <failover extends="no" period="200ms" handle_time="400ms"><![CDATA[
          mine: if (custom.app == down) then restart();
        ]]></failover>`,
      scripts: { sleeper: "#!/bin/sh\nexec sleep 600\n" },
    });
    await n1.ok("prim", "-m", MODULE);
    // Without c_app (a wait rule), custom.app still init does not hold the module in WAIT (Transient).
    await waitState(n1, "ALONE Ready", 10_000);
    assert.equal((await n1.ok("get", "-m", MODULE, "-r", "custom.app")).trim(), "init");
    // Without ip_failure, the missing address is reported but asks for nothing.
    await waitLog(n1, /Resource ip\.novip set to down by ipcheck/);
    await new Promise((r) => setTimeout(r, 1500)); // several periods beyond handle_time
    let log = await n1.ok("log", "-m", MODULE, "-A", "-s", "400");
    assert.doesNotMatch(log, /ip_failure|c_app|Implicit_wakeup|stopstart/);
    assert.equal((await scriptRuns(n1)).filter((r) => r.script === "start_prim").length, 1);

    await n1.ok("set", "-m", MODULE, "-r", "custom.app", "-v", "down", "-i", "app");
    log = await waitLog(n1, /Action restart from failover rule mine/);
    assert.doesNotMatch(log, /Action wait/, "the checker's action=wait generated no rule");
    await n1.ok("stop", "-m", MODULE);
    await waitState(n1, "STOP NotReady");
  });
});
