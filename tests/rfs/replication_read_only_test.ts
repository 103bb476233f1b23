// <replicated mode="read_only"> on the secondary: while the replication server runs, local users cannot
// change the directory (EROFS), the primary's ops are still applied beneath, and stopping the server gives
// the directory back unchanged. A guard a crash left behind is cleared before the directory is served.

import assert from "node:assert/strict";
import { ReplicationServer } from "../../src/rfs/replication_server.ts";
import { ReplicationClient } from "../../src/rfs/replication_client.ts";
import { openTreeRoot } from "../../src/rfs/beneath_root.ts";
import { mountReplicatedDir } from "../../src/rfs/fuse/mod.ts";
import { guardReadOnly, readOnlyGuardOn } from "../../src/rfs/read_only_guard.ts";
import { CLUSTER_KEY, tempDirs } from "./protocol/loopback_fixture.ts";
import { isCharDevice, skipUnless } from "../support/privileges.ts";

const HOST = "127.0.0.92";
const ignore = skipUnless({ root: true }) !== null;
// The mount part runs wherever /dev/fuse exists, and always in CI (where a missing /dev/fuse must fail).
const hasFuse = isCharDevice("/dev/fuse") || Deno.env.get("CI") === "true";

async function localWriteFails(path: string): Promise<string | null> {
  try {
    await Deno.writeTextFile(path, "local user");
    return null;
  } catch (e) {
    return (e as Error).name + ": " + (e as Error).message;
  }
}

Deno.test({
  name: "read_only: local changes fail with EROFS while SECOND, the primary's ops still apply, stop restores",
  ignore,
  fn: async () => {
    const { dirs: [prim, sec, other], cleanup } = await tempDirs(3);
    await Deno.writeTextFile(`${sec}/existing`, "before");
    const server = new ReplicationServer({
      hostname: HOST,
      port: 0,
      clusterKey: CLUSTER_KEY,
      module: "mirror",
      dirs: [sec, other],
      readOnlyDirs: [true, false],
      onSession: (s) => s.markSynced(),
    });
    server.start();
    const root = openTreeRoot(prim);
    const client = new ReplicationClient({
      host: HOST,
      port: server.port,
      clusterKey: CLUSTER_KEY,
      node: "node1",
      module: "mirror",
      roots: [root.fd, root.fd],
      async: "none",
      lockTimeoutMs: 5000,
      sendTimeoutMs: 5000,
    });
    try {
      assert.equal(readOnlyGuardOn(sec), true);
      assert.equal(readOnlyGuardOn(other), false);
      const err = await localWriteFails(`${sec}/local`);
      assert.match(err ?? "no error", /read-only file system|EROFS/i);
      assert.match(await localWriteFails(`${sec}/existing`) ?? "no error", /read-only/i);
      assert.equal(await localWriteFails(`${other}/local`), null, "a directory without mode=read_only");
      await client.connect();
      for (let i = 0; i < 100 && client.needsResync; i++) await new Promise((r) => setTimeout(r, 10));
      await client.apply({
        kind: "create",
        path: "f",
        mode: 0o100644,
        uid: 0,
        gid: 0,
        exclusive: true,
        truncate: false,
      });
      await client.apply({
        kind: "write",
        path: "f",
        offset: 0,
        data: new TextEncoder().encode("replicated"),
      });
      await client.apply({ kind: "mkdir", path: "d", mode: 0o755, uid: 0, gid: 0 });
      assert.equal(await Deno.readTextFile(`${sec}/f`), "replicated", "visible read-only to local users");
      assert.ok((await Deno.stat(`${sec}/d`)).isDirectory);
    } finally {
      await client.close();
      await server.close();
      root.close();
    }
    assert.equal(readOnlyGuardOn(sec), false);
    await Deno.writeTextFile(`${sec}/after`, "writable again");
    assert.equal(await Deno.readTextFile(`${sec}/f`), "replicated");
    await cleanup();
  },
});

Deno.test({
  name: "read_only: a guard left by a crash is cleared before the directory is served (secondary or primary)",
  ignore,
  fn: async () => {
    const { dirs: [a, b], cleanup } = await tempDirs(2);
    guardReadOnly(a);
    guardReadOnly(b);
    try {
      assert.ok(readOnlyGuardOn(a) && readOnlyGuardOn(b));
      const server = new ReplicationServer({
        hostname: HOST,
        port: 0,
        clusterKey: CLUSTER_KEY,
        module: "mirror",
        dirs: [a],
      });
      server.start();
      assert.equal(readOnlyGuardOn(a), false);
      await server.close();
      if (hasFuse) {
        const m = await mountReplicatedDir(b);
        try {
          // The server writes through its handle: it must be on the read-write mount.
          await new Deno.Command("sh", { args: ["-c", `echo ok > "${b}/f"`] }).output();
        } finally {
          await m.unmount();
        }
        assert.equal(readOnlyGuardOn(b), false);
        assert.equal(await Deno.readTextFile(`${b}/f`), "ok\n");
      }
    } finally {
      for (const d of [a, b]) {
        while (readOnlyGuardOn(d)) await new Deno.Command("umount", { args: ["-l", d] }).output();
      }
      await cleanup();
    }
  },
});
