// Zone reintegration between two real node services (127.0.0.81/82): the secondary's module is stopped
// cleanly, the primary goes on ALONE and writes a few bytes in a big file through its FUSE mount; when the
// secondary starts again only the recorded zones travel ("Copied" counts them) and both copies are equal.
import assert from "node:assert/strict";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { skipUnless } from "../../support/privileges.ts";
import { withNodes } from "../../integration/node_harness.ts";
import { MODULE, setupMirror, waitState } from "../../integration/mirror_harness.ts";

const skip = skipUnless({ root: true, devices: ["/dev/fuse"] });

async function digests(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile) {
      out[e.name] = createHash("sha256").update(await Deno.readFile(join(dir, e.name))).digest("hex");
    }
  }
  return out;
}

Deno.test({
  name: "mirror nodes: after a clean stop of the secondary only the zones written while ALONE are copied",
  ignore: skip !== null,
  async fn() {
    await withNodes([["node1", "127.0.0.81"], ["node2", "127.0.0.82"]], async ([n1, n2], root) => {
      for (const n of [n1, n2]) await Deno.mkdir(join(n.safevar, "data"), { recursive: true });
      await setupMirror(n1, n2, root, {
        extra: `<rfs async="none" ruzone_blocksize="65536" locktimeout="5s" sendtimeout="5s">` +
          `<replicated dir="%SAFEVAR%/data"/></rfs>`,
      });
      const d1 = join(n1.safevar, "data"), d2 = join(n2.safevar, "data");
      await n1.ok("prim", "-m", MODULE);
      await waitState(n1, "ALONE Ready");
      const big = new Uint8Array(16 << 20).map((_, i) => (i * 131) >> 8);
      await Deno.writeFile(join(d1, "big"), big);
      await Deno.writeTextFile(join(d1, "small"), "small\n");
      // Older than the primary's tail of recent ops kept across the sync point (2 s, zone_tracker.ts).
      await new Promise((r) => setTimeout(r, 2500));
      await n2.ok("second", "-m", MODULE);
      await waitState(n2, "SECOND Ready", 60_000);
      await waitState(n1, "PRIM Ready", 10_000);
      assert.deepEqual(await digests(d2), await digests(d1));

      await n2.ok("stop", "-m", MODULE);
      await waitState(n1, "ALONE Ready", 15_000);
      const f = await Deno.open(join(d1, "big"), { write: true });
      await f.seek(5 * 65536 + 100, Deno.SeekMode.Start);
      await f.write(new TextEncoder().encode("changed while the secondary was stopped"));
      f.close();
      await Deno.writeTextFile(join(d1, "new"), "created while ALONE\n");

      await n2.ok("start", "-m", MODULE);
      await waitState(n2, "SECOND Ready", 60_000);
      await waitState(n1, "PRIM Ready", 10_000);
      assert.deepEqual(await digests(d2), await digests(d1));
      const log = await n2.ok("log", "-m", MODULE, "-A");
      assert.match(log, /Copying the modified zones recorded by the primary/);
      // one 64 KiB zone of "big" + the 20 bytes of "new": 0.1 MB in 2 files (the first copy was 16 MB)
      assert.match(log, /Copied 0\.1 MB in 2 files/);
    });
  },
});
