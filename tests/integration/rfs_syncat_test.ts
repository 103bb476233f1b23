// <rfs syncat> on two real node services: the secondary synchronises, then holds WAIT NotReady while the
// primary runs ALONE; `safekit set -r rfs.syncat -v up` on the secondary forces a synchronisation now, which
// brings what the primary wrote meanwhile, and the secondary holds again. Nodes on 127.0.0.103/.104.
import assert from "node:assert/strict";
import { join } from "node:path";
import { skipUnless } from "../support/privileges.ts";
import { withNodes } from "./node_harness.ts";
import { MODULE, setupMirror, waitState } from "./mirror_harness.ts";

const skip = skipUnless({ root: true, devices: ["/dev/fuse"] });

Deno.test({
  name: "syncat: the secondary syncs then holds WAIT; set -r rfs.syncat -v up syncs again what changed",
  ignore: skip !== null,
  async fn() {
    await withNodes([["node1", "127.0.0.103"], ["node2", "127.0.0.104"]], async ([n1, n2], root) => {
      for (const n of [n1, n2]) await Deno.mkdir(join(n.safevar, "data"), { recursive: true });
      // Once a year: within the test only the forced synchronisation can happen.
      await setupMirror(n1, n2, root, {
        extra: `<rfs async="none" syncat="0 0 1 1 *"><replicated dir="%SAFEVAR%/data"/></rfs>`,
      });
      const d1 = join(n1.safevar, "data");
      const d2 = join(n2.safevar, "data");
      await n1.ok("prim", "-m", MODULE);
      await waitState(n1, "ALONE Ready");
      await Deno.writeTextFile(join(d1, "first.txt"), "before the first sync\n");
      await n2.ok("second", "-m", MODULE);
      await waitState(n2, "WAIT NotReady", 30_000);
      await waitState(n1, "ALONE Ready", 10_000);
      assert.equal(await Deno.readTextFile(join(d2, "first.txt")), "before the first sync\n");
      const log2 = await n2.ok("log", "-m", MODULE, "-A");
      assert.match(log2, /Action wait from failover rule rfs_syncat_wait/);
      assert.match(log2, /Scheduled synchronization \(syncat\): next at \d{4}-01-01 00:00:00/);
      assert.match(await n2.ok("get", "-m", MODULE, "-r", "rfs.syncat"), /down/);

      // Written while the secondary holds: not replicated until the next synchronisation.
      await Deno.writeTextFile(join(d1, "second.txt"), "written while the secondary held\n");
      await assert.rejects(Deno.stat(join(d2, "second.txt")));
      await n2.ok("set", "-m", MODULE, "-r", "rfs.syncat", "-v", "up");
      // Holding again = a second "wait from rfs_syncat_wait" in the log, then WAIT NotReady.
      const deadline = Date.now() + 30_000;
      while (
        (await n2.ok("log", "-m", MODULE, "-A")).split("Action wait from failover rule rfs_syncat_wait")
          .length < 3
      ) {
        if (Date.now() > deadline) assert.fail(await n2.ok("log", "-m", MODULE, "-A"));
        await new Promise((r) => setTimeout(r, 200));
      }
      await waitState(n2, "WAIT NotReady", 30_000);
      assert.equal(await Deno.readTextFile(join(d2, "second.txt")), "written while the secondary held\n");
      assert.match(
        await n2.ok("log", "-m", MODULE, "-A"),
        /Implicit_wakeup from failover rule rfs_syncat_wait/,
      );
      await waitState(n1, "ALONE Ready", 10_000);
    });
  },
});
