// Mirror modules on two real node services (127.0.0.2, 127.0.0.3) with heartbeats of 200 ms / 1 s:
// start, crash and pause of the primary, return of the old primary, swap, stop, failover="off" and a
// hanging stop script.
import assert from "node:assert/strict";
import { withNodes } from "./node_harness.ts";
import { establishPair, MODULE, scriptRuns, setupMirror, waitState } from "./mirror_harness.ts";

const NODES: [string, string][] = [["node1", "127.0.0.2"], ["node2", "127.0.0.3"]];
const TIMEOUT_MS = 1000;

Deno.test("mirror: prim and second, then kill -9 of the primary's node service fails over within timeout + 1 s", async () => {
  await withNodes(NODES, async ([n1, n2], root) => {
    await setupMirror(n1, n2, root);
    await establishPair(n1, n2);
    assert.equal((await n1.cli("state", "-m", MODULE, "-lq")).code, 3);
    assert.equal((await n2.cli("state", "-m", MODULE, "-lq")).code, 4);
    const probe = await fetch(`http://${n1.addr}:9010/var/modules/${MODULE}/ready.txt`);
    assert.equal(probe.status, 200);
    await probe.body?.cancel();

    const killedAt = Date.now();
    n1.kill("SIGKILL");
    await n1.waitExit();
    await waitState(n2, "ALONE Ready", 10_000);
    const startPrim = (await scriptRuns(n2)).filter((r) => r.script === "start_prim" && r.at >= killedAt);
    assert.equal(startPrim.length, 1, JSON.stringify(await scriptRuns(n2)));
    const delay = startPrim[0].at - killedAt;
    assert.ok(delay <= TIMEOUT_MS + 1000, `start_prim ran ${delay} ms after the kill`);
    assert.match(await n2.ok("log", "-m", MODULE), /Action alone called by heart: no heartbeat/);

    // The old primary comes back: it restarts as SECOND, the survivor becomes PRIM.
    await n1.start();
    await n1.ok("start", "-m", MODULE);
    await waitState(n1, "SECOND Ready");
    await waitState(n2, "PRIM Ready");
  });
});

Deno.test("mirror: a paused (SIGSTOP) primary is taken over, and comes back as SECOND", async () => {
  await withNodes(NODES, async ([n1, n2], root) => {
    await setupMirror(n1, n2, root);
    await establishPair(n1, n2);

    const pausedAt = Date.now();
    Deno.kill(n1.child!.pid, "SIGSTOP");
    try {
      await waitState(n2, "ALONE Ready", 10_000);
      const startPrim = (await scriptRuns(n2)).filter((r) => r.script === "start_prim" && r.at >= pausedAt);
      assert.equal(startPrim.length, 1);
      assert.ok(
        startPrim[0].at - pausedAt <= TIMEOUT_MS + 1000,
        `start_prim ${startPrim[0].at - pausedAt} ms after`,
      );
    } finally {
      Deno.kill(n1.child!.pid, "SIGCONT");
    }
    // Never two primaries for long: the paused node yields and resynchronises as SECOND.
    await waitState(n1, "SECOND Ready", 15_000);
    await waitState(n2, "PRIM Ready");
  });
});

Deno.test("mirror: swap exchanges the roles; stop on PRIM fails over to the other node", async () => {
  await withNodes(NODES, async ([n1, n2], root) => {
    await setupMirror(n1, n2, root);
    await establishPair(n1, n2);

    await n1.ok("swap", "-m", MODULE);
    await waitState(n2, "PRIM Ready");
    await waitState(n1, "SECOND Ready");
    assert.ok((await scriptRuns(n2)).some((r) => r.script === "start_prim"));

    await n2.ok("stop", "-m", MODULE);
    await waitState(n2, "STOP NotReady");
    await waitState(n1, "ALONE Ready");
    assert.match(await n1.ok("log", "-m", MODULE), /Action alone called by heart: remote stop/);
    const stops = (await scriptRuns(n2)).filter((r) => r.script === "stop_prim");
    assert.ok(stops.some((r) => r.args.startsWith("force")), "stop_prim is called again with 'force'");
  });
});

Deno.test('mirror: failover="off" leaves the secondary in WAIT when the primary stops', async () => {
  await withNodes(NODES, async ([n1, n2], root) => {
    await setupMirror(n1, n2, root, { failover: "off" });
    await establishPair(n1, n2);
    await n1.ok("stop", "-m", MODULE);
    await waitState(n2, "WAIT NotReady");
    assert.match(await n2.ok("log", "-m", MODULE), /Failover-off configured/);
    assert.equal((await scriptRuns(n2)).filter((r) => r.script === "start_prim").length, 0);
  });
});

Deno.test("mirror: a hanging stop script is killed at its timeout with its whole process tree", async () => {
  const hang = `#!/bin/sh
echo "$(date +%s%3N) $(basename "$0") $*" >> "$SAFEUSERVAR/scripts.log"
if [ "$1" != force ]; then sleep 300 & echo $! > "$SAFEUSERVAR/child.pid"; wait; fi
`;
  await withNodes(NODES, async ([n1, n2], root) => {
    await setupMirror(n1, n2, root, { niceStop: "1s", forceStop: "2s", scripts: { stop_prim: hang } });
    await n1.ok("prim", "-m", MODULE);
    await waitState(n1, "ALONE Ready");
    const t0 = Date.now();
    await n1.ok("stop", "-m", MODULE);
    await waitState(n1, "STOP NotReady", 10_000);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 900 && elapsed < 5000, `stop took ${elapsed} ms`);
    const childPid = Number((await Deno.readTextFile(`${n1.safevar}/modules/${MODULE}/child.pid`)).trim());
    const alive = await Deno.readTextFile(`/proc/${childPid}/stat`).then(
      (s) => !/\) Z /.test(s),
      () => false,
    );
    assert.equal(alive, false, "the script's child process survived the timeout");
    assert.match(await n1.ok("log", "-m", MODULE, "-A"), /Script stop_prim timed out/);
    const runs = (await scriptRuns(n1)).filter((r) => r.script === "stop_prim");
    assert.deepEqual(runs.map((r) => r.args.split(" ")[0]), ["ALONE", "force"]);
  });
});

Deno.test("mirror: stopping the primary's node service (SIGTERM) shuts its module down; the peer takes over", async () => {
  await withNodes(NODES, async ([n1, n2], root) => {
    await setupMirror(n1, n2, root);
    await establishPair(n1, n2);
    await n1.stop(); // SIGTERM, as systemctl stop does
    await waitState(n2, "ALONE Ready", 10_000);
    assert.match(await n2.ok("log", "-m", MODULE), /Action alone called by heart: remote stop/);
    const stops = (await scriptRuns(n1)).filter((r) => r.script === "stop_prim");
    assert.ok(stops.length >= 1, "the application was stopped before the node service exited");
    await n1.start();
    assert.match(await n1.ok("log", "-m", MODULE), /Action shutdown called by SYSTEM/);
  });
});
