// `safekit rfsverify` on a real replicated pair: equal copies verify clean while the pair runs; a file changed
// behind replication's back on the secondary is reported (and the verb exits 1), a <notreplicated> path is
// not. Nodes on 127.0.0.101/.102 so the test does not contend with the others' addresses.
import assert from "node:assert/strict";
import { join } from "node:path";
import { skipUnless } from "../support/privileges.ts";
import { withNodes } from "./node_harness.ts";
import { establishPair, MODULE, setupMirror, waitState } from "./mirror_harness.ts";

const skip = skipUnless({ root: true, devices: ["/dev/fuse"] });

Deno.test({
  name:
    "rfsverify: identical copies verify clean; a divergence is reported with exit 1; rfssync full repairs it",
  ignore: skip !== null,
  async fn() {
    await withNodes([["node1", "127.0.0.101"], ["node2", "127.0.0.102"]], async ([n1, n2], root) => {
      for (const n of [n1, n2]) await Deno.mkdir(join(n.safevar, "data"), { recursive: true });
      await setupMirror(n1, n2, root, {
        extra: `<rfs async="none" locktimeout="5s" sendtimeout="5s"><replicated dir="%SAFEVAR%/data">` +
          `<notreplicated path="scratch"/></replicated></rfs>`,
      });
      await establishPair(n1, n2);
      const d1 = join(n1.safevar, "data");
      const d2 = join(n2.safevar, "data");
      await Deno.mkdir(join(d1, "docs/deep"), { recursive: true });
      for (let i = 0; i < 30; i++) {
        await Deno.writeTextFile(join(d1, "docs", `f${i}`), `record ${i}\n`.repeat(i));
      }
      await Deno.writeFile(join(d1, "docs/deep/blob"), crypto.getRandomValues(new Uint8Array(60_000)));
      await Deno.symlink("docs/f3", join(d1, "shortcut"));
      // Not replicated: present on one side only, and not a difference.
      await Deno.mkdir(join(d2, "scratch"));
      await Deno.writeTextFile(join(d2, "scratch/local"), "secondary only");

      const clean = await n2.cli("rfsverify", "-m", MODULE);
      assert.equal(clean.code, 0, clean.stdout + clean.stderr);
      assert.match(clean.stdout, /34 entries, 0 differences/);
      assert.match(clean.stdout, /the copies are identical/);

      // Behind replication's back: the secondary's copy is changed directly.
      await Deno.writeTextFile(join(d2, "docs/f7"), "tampered\n");
      await Deno.remove(join(d2, "docs/f8"));
      const dirty = await n1.cli("rfsverify", "-m", MODULE, "--json");
      assert.equal(dirty.code, 1, dirty.stdout + dirty.stderr);
      const r = JSON.parse(dirty.stdout);
      assert.equal(r.primary, "node1");
      assert.deepEqual(
        r.dirs[0].differences.map((d: { path: string; kinds: string[] }) => `${d.path}:${d.kinds.join("+")}`),
        ["docs/f7:size+content", "docs/f8:missing on secondary"],
      );
      assert.match(
        await n1.ok("log", "-m", MODULE, "-A"),
        /rfsverify: 34 entries compared with node2, 2 differences/,
      );

      // `rfssync full` on the secondary: its next reintegration copies everything, which repairs the copy;
      // the policy then returns to default.
      await n2.ok("stop", "-m", MODULE);
      assert.match(
        await n2.ok("rfssync", "full", "-m", MODULE),
        /next reintegration on this node is a full copy/,
      );
      const ext = await n2.cli("rfssync", "external", "second", "backup1", "-m", MODULE);
      assert.equal(ext.code, 1);
      assert.match(ext.stderr, /secondforce -d <date of the backup>/);
      await n2.ok("second", "-m", MODULE);
      await waitState(n2, "SECOND Ready", 30_000);
      assert.match(
        await n2.ok("log", "-m", MODULE, "-A"),
        /Full reintegration requested by 'safekit rfssync full'/,
      );
      assert.match(await n2.ok("rfssync", "-m", MODULE), /default policy/);
      const repaired = await n2.cli("rfsverify", "-m", MODULE);
      assert.equal(repaired.code, 0, repaired.stdout + repaired.stderr);

      // rfsdiff on the primary while the secondary is away: what its next reintegration would copy.
      assert.match((await n2.cli("rfsdiff", "-m", MODULE)).stderr, /rfsdiff runs on the primary/);
      await n2.ok("stop", "-m", MODULE);
      await waitState(n1, "ALONE Ready", 15_000);
      await Deno.writeTextFile(join(d1, "after-stop.txt"), "x".repeat(5000));
      const diff = JSON.parse(await n1.ok("rfsdiff", "-m", MODULE, "--json"));
      assert.equal(diff.dirs[0].basis, "zones");
      assert.ok(diff.dirs[0].wholeEntries >= 1 && diff.bytes >= 5000, JSON.stringify(diff));
      assert.equal(diff.rateBasis, "1 Gb/s link");
      assert.match(await n1.ok("rfsdiff", "-m", MODULE), /estimated sync time \d+ s at 110 MB\/s/);
    });
  },
});
