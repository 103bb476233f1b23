// The POSIX behaviour suite: every case of posix_cases.py runs on a plain directory and on a replicated
// FUSE mount (replicating over TCP to a secondary on 127.0.0.91, async="none"), and must observe the same
// results — return values, errno names, contents, modes, owners, links, xattrs, sparse files, explicit
// times. Then the secondary's copy must equal the primary's (contents, sizes, modes, owners, link counts,
// symlink targets, xattrs, sparseness, explicit times).
//
// The FUSE server runs in this process: the mount is touched only through python3 subprocesses.

import assert from "node:assert/strict";
import { mountReplicatedDir } from "../../../src/rfs/fuse/mod.ts";
import { ReplicationServer } from "../../../src/rfs/replication_server.ts";
import { ReplicationClient } from "../../../src/rfs/replication_client.ts";
import { CLUSTER_KEY } from "../protocol/loopback_fixture.ts";
import { skipUnless } from "../../support/privileges.ts";

const HOST = "127.0.0.91";
const CASES = new URL("./posix_cases.py", import.meta.url).pathname;
const ignore = skipUnless({ root: true, devices: ["/dev/fuse"] }) !== null;

async function py(...args: string[]): Promise<string> {
  const out = await new Deno.Command("python3", { args: [CASES, ...args] }).output();
  const dec = new TextDecoder();
  if (!out.success) throw new Error(`posix_cases.py ${args.join(" ")}: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout);
}

Deno.test({
  name: "POSIX suite: a replicated mount behaves like a plain directory, and the secondary ends up equal",
  ignore,
  fn: async (t) => {
    const base = await Deno.makeTempDir({ prefix: "safekit-posix-" });
    await Deno.chmod(base, 0o755); // the cases run some steps as nobody
    const [plain, prim, sec] = [`${base}/plain`, `${base}/prim`, `${base}/sec`];
    for (const d of [plain, prim, sec]) await Deno.mkdir(d, { mode: 0o755 });
    const server = new ReplicationServer({
      hostname: HOST,
      port: 0,
      clusterKey: CLUSTER_KEY,
      module: "posix",
      dirs: [sec],
      onSession: (s) => s.markSynced(), // both trees start empty
    });
    server.start();
    let client: ReplicationClient | null = null;
    const mount = await mountReplicatedDir(prim, { sink: { apply: (op) => client!.apply(op) } });
    client = new ReplicationClient({
      host: HOST,
      port: server.port,
      clusterKey: CLUSTER_KEY,
      node: "node1",
      module: "posix",
      roots: [mount.root.fd],
      async: "none",
      lockTimeoutMs: 10_000,
      sendTimeoutMs: 10_000,
    });
    try {
      await client.connect();
      for (let i = 0; i < 200 && client.needsResync; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(client.needsResync, false, JSON.stringify({ state: client.state, stats: client.stats }));
      const cases = (await py("list")).trim().split("\n");
      assert.ok(cases.length >= 12, `cases: ${cases.join(", ")}`);
      for (const c of cases) {
        await t.step(c, async () => {
          const expected = await py("case", c, `${plain}/${c}`);
          const got = await py("case", c, `${prim}/${c}`);
          assert.equal(got, expected);
        });
      }
      await t.step("the secondary's copy equals the primary's", async () => {
        assert.equal(client!.state, "connected", "replication never dropped");
        const primary = JSON.parse(await py("snapshot", prim));
        const secondary = JSON.parse(await py("snapshot", sec));
        assert.ok(Object.keys(primary).length > 400);
        assert.deepEqual(secondary, primary);
      });
    } finally {
      await mount.unmount();
      await client.close();
      await server.close();
      await Deno.remove(base, { recursive: true });
    }
  },
});
