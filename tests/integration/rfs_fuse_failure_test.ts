// The primary's FUSE server failing (spec §7.1, issue #4 point 5): killed, the node service sees its
// replication process exit and restarts the module (stopstart) instead of leaving the application on a
// dead mount; frozen (SIGSTOP), the null-request watchdog (checktime/checkintv) finds it within checktime and
// does the same. Either way the module comes back serving the directory with every acknowledged write.
// Nodes on 127.0.0.105/.106.
import assert from "node:assert/strict";
import { join } from "node:path";
import { skipUnless } from "../support/privileges.ts";
import { type TestNode, withNodes } from "./node_harness.ts";
import { establishPair, MODULE, setupMirror, waitLog, waitState } from "./mirror_harness.ts";

const skip = skipUnless({ root: true, devices: ["/dev/fuse"] });

/** The pid of the node service's `rfs-primary` child. */
async function rfsPrimaryPid(n: TestNode): Promise<number> {
  const out = await new Deno.Command("pgrep", { args: ["-P", String(n.child!.pid), "-f", "rfs-primary"] })
    .output();
  const pids = new TextDecoder().decode(out.stdout).trim().split(/\s+/).filter(Boolean).map(Number);
  assert.equal(pids.length, 1, `one rfs-primary child of ${n.name}, found ${pids.join(",")}`);
  return pids[0];
}

Deno.test({
  name: "FUSE server killed or frozen on the primary: detected, the module restarts, no write lost",
  ignore: skip !== null,
  async fn() {
    await withNodes([["node1", "127.0.0.105"], ["node2", "127.0.0.106"]], async ([n1, n2], root) => {
      for (const n of [n1, n2]) await Deno.mkdir(join(n.safevar, "data"), { recursive: true });
      await setupMirror(n1, n2, root, {
        extra: `<rfs async="none" checktime="1500ms" checkintv="1s" locktimeout="5s" sendtimeout="5s">` +
          `<replicated dir="%SAFEVAR%/data"/></rfs>`,
      });
      await establishPair(n1, n2);
      // The log says which code authenticates the stream (OpenSSL wherever it loads, as in CI).
      const ci = Deno.env.get("CI") === "true";
      const tagLine = ci ? /frames authenticated with Poly1305 by OpenSSL/ : /frames authenticated with/;
      for (const n of [n1, n2]) await waitLog(n, tagLine, 5000);
      const d1 = join(n1.safevar, "data");
      const d2 = join(n2.safevar, "data");
      await Deno.writeTextFile(join(d1, "a.txt"), "acknowledged before the kill\n");

      // Killed: the exit is seen at once.
      Deno.kill(await rfsPrimaryPid(n1), "SIGKILL");
      await waitLog(n1, /Replication process exited unexpectedly/, 10_000);
      await waitLog(n1, /Action stopstart called by nfsbox/, 10_000);
      // The module restarts; the peer, still SECOND or taking over, ends paired again with someone PRIM.
      await waitPrimary([n1, n2], 40_000);

      // Frozen: only the watchdog can tell.
      const [prim] = await primaryOf([n1, n2]);
      const dir = prim === n1 ? d1 : d2;
      await Deno.writeTextFile(join(dir, "b.txt"), "acknowledged before the freeze\n");
      const frozen = await rfsPrimaryPid(prim);
      Deno.kill(frozen, "SIGSTOP");
      await waitLog(prim, /did not answer a null request within 1500 ms/, 15_000);
      await waitPrimary([n1, n2], 40_000);
      const [p2] = await primaryOf([n1, n2]);
      const final = p2 === n1 ? d1 : d2;
      assert.equal(await Deno.readTextFile(join(final, "a.txt")), "acknowledged before the kill\n");
      assert.equal(await Deno.readTextFile(join(final, "b.txt")), "acknowledged before the freeze\n");
      await Deno.writeTextFile(join(final, "c.txt"), "the mount serves again\n");
      assert.equal(await Deno.readTextFile(join(final, "c.txt")), "the mount serves again\n");
    });
  },
});

async function primaryOf(nodes: TestNode[]): Promise<TestNode[]> {
  const out: TestNode[] = [];
  for (const n of nodes) {
    const s = await n.cli("state", "-m", MODULE, "-lq");
    if (s.code === 2 || s.code === 3) out.push(n); // ALONE or PRIM
  }
  return out;
}

async function waitPrimary(nodes: TestNode[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = await primaryOf(nodes);
    if (p.length === 1) {
      const ok = await waitState(
        p[0],
        (await p[0].cli("state", "-m", MODULE, "-lq")).code === 3 ? "PRIM Ready" : "ALONE Ready",
        2000,
      )
        .then(() => true, () => false);
      if (ok) return;
    }
    if (Date.now() > deadline) assert.fail(`no single primary Ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 300));
  }
}
