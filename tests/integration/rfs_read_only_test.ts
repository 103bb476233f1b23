// <replicated mode="read_only"> on two real node services: while SECOND, the replicated directory refuses
// local writes (EROFS) and still receives every replicated change; once the node is primary it is writable.
// Nodes on 127.0.0.107/.108.
import assert from "node:assert/strict";
import { join } from "node:path";
import { skipUnless } from "../support/privileges.ts";
import { withNodes } from "./node_harness.ts";
import { establishPair, MODULE, setupMirror, waitState } from "./mirror_harness.ts";

const skip = (() => {
  const r = skipUnless({ root: true });
  if (r) return r;
  try {
    Deno.statSync("/dev/fuse");
    return null;
  } catch {
    if (Deno.env.get("CI") === "true") throw new Error("CI must run this test, but /dev/fuse is missing");
    console.log("skipped: needs /dev/fuse");
    return "needs /dev/fuse";
  }
})();

Deno.test({
  name: "read_only: the secondary's replicated directory refuses local writes and still receives changes",
  ignore: skip !== null,
  async fn() {
    await withNodes([["node1", "127.0.0.107"], ["node2", "127.0.0.108"]], async ([n1, n2], root) => {
      for (const n of [n1, n2]) await Deno.mkdir(join(n.safevar, "data"), { recursive: true });
      await setupMirror(n1, n2, root, {
        extra: `<rfs async="none" readpassthrough="on" writebackcache="off">` +
          `<replicated dir="%SAFEVAR%/data" mode="read_only"/></rfs>`,
      });
      await establishPair(n1, n2);
      const d1 = join(n1.safevar, "data");
      const d2 = join(n2.safevar, "data");
      await Deno.writeTextFile(join(d1, "from-primary.txt"), "replicated\n");
      assert.equal(await Deno.readTextFile(join(d2, "from-primary.txt")), "replicated\n");
      await assert.rejects(
        Deno.writeTextFile(join(d2, "local.txt"), "must not land"),
        (e: Error) => /read-only|EROFS|os error 30/i.test(e.message),
      );
      await assert.rejects(Deno.remove(join(d2, "from-primary.txt")));

      // Swap: node2 becomes primary and its directory is writable again; node1, now SECOND, is read-only.
      await n1.ok("swap", "-m", MODULE);
      await waitState(n2, "PRIM Ready", 30_000);
      await waitState(n1, "SECOND Ready", 30_000);
      await Deno.writeTextFile(join(d2, "after-swap.txt"), "written on the new primary\n");
      assert.equal(await Deno.readTextFile(join(d1, "after-swap.txt")), "written on the new primary\n");
      await assert.rejects(Deno.writeTextFile(join(d1, "local.txt"), "must not land"));
    });
  },
});
