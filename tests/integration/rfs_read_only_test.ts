// <replicated mode="read_only"> on two real node services: while SECOND, the replicated directory refuses
// local writes (EROFS) and still receives every replicated change; once the node is primary it is writable.
// Nodes on 127.0.0.107/.108.
import assert from "node:assert/strict";
import { join } from "node:path";
import { skipUnless } from "../support/privileges.ts";
import { type TestNode, withNodes } from "./node_harness.ts";
import { signPeerRequest } from "../../src/web/peer_auth.ts";
import { establishPair, MODULE, setupMirror, waitState } from "./mirror_harness.ts";

const skip = skipUnless({ root: true, devices: ["/dev/fuse"] });

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

      // Replication throughput as resources (KB/s over 3 s) and Prometheus counters.
      // The replication process reports its counters once a second: let the node service see a first report.
      for (
        let i = 0;
        i < 50 && !/safekit_replication_bytes_total/.test(await signedText(n1, "/metrics"));
        i++
      ) {
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 1100));
      await Deno.writeFile(join(d1, "five-mib"), new Uint8Array(5 << 20));
      let peak = 0;
      for (let i = 0; i < 30 && peak === 0; i++) {
        peak = Number(await n1.ok("get", "-m", MODULE, "-r", "rfs.rep_bandwidth"));
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(
        peak > 0,
        `rfs.rep_bandwidth rose while 5 MiB were replicated: ${await signedText(n1, "/metrics")}`,
      );
      const metrics = await signedText(n1, "/metrics");
      const sent = Number(
        /safekit_replication_bytes_total\{module="mirror",flow="replication"\} (\d+)/.exec(metrics)?.[1],
      );
      assert.ok(sent >= 5 << 20, metrics);
      assert.match(metrics, /safekit_replication_backlog_ops\{module="mirror"\} \d+/);
      assert.match(metrics, /safekit_heartbeat_rtt_seconds\{module="mirror",heartbeat="default"\} [\d.e-]+/);

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

/** A GET signed with the cluster key, as a peer node would send it; the body as text. */
async function signedText(n: TestNode, path: string): Promise<string> {
  const hex = (await Deno.readTextFile(join(n.safevar, "cluster", "cluster.key"))).trim();
  const key = Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
  const sig = await signPeerRequest(key, n.name, "GET", path, new Uint8Array(), Date.now());
  const r = await fetch(`http://${n.addr}:9010${path}`, { headers: { "x-safekit-peer": sig } });
  assert.equal(r.status, 200);
  return await r.text();
}
