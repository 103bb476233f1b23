// Reintegration carries extended attributes and hard links, in a full copy and in a zone resync.
import assert from "node:assert/strict";
import { join } from "node:path";
import { applyTreeOpSync } from "../../src/rfs/apply_tree_op.ts";
import { reintegrate, type ReintegrationOptions } from "../../src/rfs/reintegration.ts";
import { PrimaryZones } from "../../src/rfs/zones/primary_zones.ts";
import { readExtras } from "../../src/rfs/zones/entry_extras.ts";
import type { TreeOp } from "../../src/rfs/tree_op.ts";
import {
  delay,
  primaryClient,
  roots,
  snapshot,
  startSecondary,
  tempDirs,
} from "./protocol/loopback_fixture.ts";

const HOST = "127.0.0.81";
const Z = 64 << 10;
const enc = (s: string) => new TextEncoder().encode(s);

/** xattrs (name=value) and, for regular files, which names share an inode (by the first such name). */
function extrasOf(rootFd: number, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const firstByIno = new Map<bigint, string>();
  for (const n of names) {
    const e = readExtras(rootFd, n);
    if (typeof e === "number") continue;
    const x = e.xattrs.map(([k, v]) => `${k}=${new TextDecoder().decode(v)}`).join(",");
    const first = e.file ? firstByIno.get(e.ino) ?? n : n;
    if (e.file && !firstByIno.has(e.ino)) firstByIno.set(e.ino, n);
    out[n] = `${x} ${e.file ? `inode-of:${first}` : ""}`;
  }
  return out;
}

Deno.test("xattrs and hard links are carried by a full copy and by a zone resync", async () => {
  const { dirs: [prim, sec, state], cleanup } = await tempDirs(3);
  const [root, secRoot] = roots([prim, sec]);
  const zones = new PrimaryZones(join(state, "s"), Z, 1);
  zones.serve([root.fd]);
  const server = await startSecondary([sec], { hostname: HOST });
  const client = primaryClient(server, [root], {
    host: HOST,
    onSecondaryLost: () => zones.secondaryLost(),
    onSecondarySynced: () => zones.secondarySynced(Date.now()),
  });
  zones.attach(client);
  const change = (op: TreeOp) => {
    applyTreeOpSync(root.fd, op);
    zones.note(0, op);
    return client.apply(op);
  };
  const resync = async (opts: Partial<ReintegrationOptions>) => {
    if (client.state !== "connected") await client.connect();
    const r = await reintegrate({
      session: await server.waitForSession(5000),
      dirs: [{ dir: prim }],
      mode: "full",
      nbRei: 4,
      reiPacketSize: 1 << 20,
      reiTimeoutMs: 10_000,
      ...opts,
    });
    for (let i = 0; i < 200 && client.needsResync; i++) await delay(10);
    return r;
  };
  const names = ["a", "b", "sub", "sub/c", "sub/d", "e", "h"];
  try {
    await Deno.writeFile(join(prim, "a"), new Uint8Array(4 * Z).fill(1));
    await Deno.link(join(prim, "a"), join(prim, "b"));
    await Deno.mkdir(join(prim, "sub"));
    await Deno.link(join(prim, "a"), join(prim, "sub/c"));
    await Deno.writeTextFile(join(prim, "sub/d"), "d");
    await Deno.writeTextFile(join(prim, "e"), "e");
    applyTreeOpSync(root.fd, {
      kind: "setxattr",
      path: "a",
      name: "user.color",
      value: enc("blue"),
      flags: 0,
    });
    applyTreeOpSync(root.fd, {
      kind: "setxattr",
      path: "sub",
      name: "user.dir",
      value: enc("yes"),
      flags: 0,
    });
    applyTreeOpSync(root.fd, { kind: "setxattr", path: "e", name: "user.x", value: enc("1"), flags: 0 });

    const full = await resync({ mode: "full" });
    assert.deepEqual(await snapshot(sec), await snapshot(prim));
    assert.deepEqual(extrasOf(secRoot.fd, names), extrasOf(root.fd, names));
    assert.equal(extrasOf(secRoot.fd, ["a", "b"]).b, "user.color=blue inode-of:a");
    assert.ok(full.bytesCopied < 5 * Z, `the linked names are not copied (${full.bytesCopied} bytes)`);

    // The secondary stops; the primary changes xattrs, adds a link, writes one zone.
    await server.session?.close("the secondary stops");
    for (let i = 0; i < 200 && client.state === "connected"; i++) await delay(10);
    await change({ kind: "setxattr", path: "a", name: "user.color", value: enc("red"), flags: 0 });
    await change({ kind: "removexattr", path: "e", name: "user.x" });
    await change({ kind: "setxattr", path: "sub/d", name: "user.new", value: enc("n"), flags: 0 });
    await change({ kind: "link", path: "sub/d", newPath: "h" });
    await change({ kind: "write", path: "b", offset: 2 * Z, data: new Uint8Array(10).fill(9) });

    const r = await resync({
      mode: "zones",
      zones: { records: [{ ...full.syncPoints[0]!, clean: true }] },
    });
    assert.deepEqual(r.strategies, ["zones"]);
    assert.deepEqual(await snapshot(sec), await snapshot(prim));
    assert.deepEqual(extrasOf(secRoot.fd, names), extrasOf(root.fd, names));
    assert.equal(extrasOf(secRoot.fd, ["sub/d", "h"]).h, "user.new=n inode-of:sub/d");
  } finally {
    await client.close();
    await server.close();
    zones.close();
    root.close();
    secRoot.close();
    await cleanup();
  }
});
