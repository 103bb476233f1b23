// Real-time replication between two real node services: the primary mounts %SAFEVAR%/data with the FUSE
// server, the secondary reintegrates it, then every acknowledged write is on the secondary; a crash of the
// primary's node service leaves the survivor with every acknowledged write.
import assert from "node:assert/strict";
import { join } from "node:path";
import { skipUnless } from "../support/privileges.ts";
import { withNodes } from "./node_harness.ts";
import { MODULE, setupMirror, waitState } from "./mirror_harness.ts";

const skip = skipUnless({ root: true, devices: ["/dev/fuse"] });

async function treeOf(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string, rel: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = join(d, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(p, r);
      else if (e.isFile) out[r] = await Deno.readTextFile(p);
    }
  };
  await walk(dir, "");
  return out;
}

Deno.test({
  name:
    "replication: reintegration then synchronous writes reach the secondary; a primary crash loses nothing",
  ignore: skip !== null,
  async fn() {
    await withNodes([["node1", "127.0.0.2"], ["node2", "127.0.0.3"]], async ([n1, n2], root) => {
      for (const n of [n1, n2]) await Deno.mkdir(join(n.safevar, "data"), { recursive: true });
      await setupMirror(n1, n2, root, {
        extra: `<rfs async="none" locktimeout="5s" sendtimeout="5s"><replicated dir="%SAFEVAR%/data"/></rfs>`,
      });
      const d1 = join(n1.safevar, "data");
      const d2 = join(n2.safevar, "data");
      await n1.ok("prim", "-m", MODULE);
      await waitState(n1, "ALONE Ready");
      // Written through the mount while alone: the reintegration must bring it over.
      await Deno.mkdir(join(d1, "sub"));
      await Deno.writeTextFile(join(d1, "sub", "before.txt"), "written while ALONE\n".repeat(1000));
      await n2.ok("second", "-m", MODULE);
      await waitState(n2, "SECOND Ready", 30_000);
      await waitState(n1, "PRIM Ready", 10_000);
      assert.deepEqual(await treeOf(d2), await treeOf(d1));
      assert.match(await n2.ok("log", "-m", MODULE, "-A"), /Reintegration ended/);
      const mounts = await Deno.readTextFile("/proc/self/mountinfo");
      assert.ok(mounts.includes(` ${d1} `), "the primary serves its replicated directory through the mount");
      assert.ok(!mounts.includes(` ${d2} `), "the secondary's directory is not mounted");

      // Synchronous: once the write returned (async="none"), the secondary has it on disk.
      for (let i = 0; i < 20; i++) await Deno.writeTextFile(join(d1, `f${i}.txt`), `content ${i}\n`);
      await Deno.rename(join(d1, "f0.txt"), join(d1, "renamed.txt"));
      await Deno.remove(join(d1, "f1.txt"));
      const acknowledged = await treeOf(d1);
      assert.deepEqual(await treeOf(d2), acknowledged);

      // The primary's node service crashes: the survivor has every acknowledged write.
      n1.kill("SIGKILL");
      await n1.waitExit();
      await waitState(n2, "ALONE Ready", 15_000);
      assert.deepEqual(await treeOf(d2), acknowledged);
    });
  },
});
