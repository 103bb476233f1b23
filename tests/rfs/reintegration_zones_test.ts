// Zone reintegration (spec §7.2 case 2): after a clean stop of the secondary, only the zones the primary
// recorded while ALONE travel, and the trees end byte-for-byte equal; the fallbacks when the bitmaps cannot
// be trusted; an interrupted reintegration resumed without copying finished files again; live writes.
import assert from "node:assert/strict";
import { join } from "node:path";
import { applyTreeOpSync } from "../../src/rfs/apply_tree_op.ts";
import { reintegrate, type ReintegrationOptions, type SyncRecord } from "../../src/rfs/reintegration.ts";
import { PrimaryZones } from "../../src/rfs/zones/primary_zones.ts";
import type { ReplicationServer, ReplicationSession } from "../../src/rfs/replication_server.ts";
import type { ReplicationClient } from "../../src/rfs/replication_client.ts";
import type { TreeRoot } from "../../src/rfs/beneath_root.ts";
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
const FILES = 20;
const FILE_SIZE = 16 * Z;

type Pair = {
  prim: string;
  sec: string;
  root: TreeRoot;
  zones: PrimaryZones;
  server: ReplicationServer;
  client: ReplicationClient;
  /** An application's change on the primary, as the FUSE server hands it over: local, noted, sent. */
  change(op: TreeOp): Promise<void>;
  /** Connects and reintegrates; resolves once the primary heard "synced". */
  resync(opts: Partial<ReintegrationOptions>): ReturnType<typeof reintegrate>;
  session(): Promise<ReplicationSession>;
  /** The secondary stops cleanly: its session closes, the primary goes ALONE. */
  stopSecondary(): Promise<void>;
  close(): Promise<void>;
};

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let o = 0; o < n; o += 65536) crypto.getRandomValues(out.subarray(o, Math.min(n, o + 65536)));
  return out;
}

async function pair(): Promise<Pair> {
  const { dirs: [prim, sec, state], cleanup } = await tempDirs(3);
  for (let i = 0; i < FILES; i++) {
    await Deno.mkdir(join(prim, `d${i % 3}`), { recursive: true });
    await Deno.writeFile(join(prim, `d${i % 3}/f${i}`), randomBytes(FILE_SIZE));
  }
  await Deno.writeTextFile(join(prim, "small"), "hello");
  const [root] = roots([prim]);
  const zones = new PrimaryZones(join(state, "state"), Z, 1);
  zones.serve([root.fd]);
  const server = await startSecondary([sec], { hostname: HOST });
  const client = primaryClient(server, [root], {
    host: HOST,
    onSecondaryLost: () => zones.secondaryLost(),
    onSecondarySynced: () => zones.secondarySynced(Date.now()),
  });
  zones.attach(client);
  const session = async () => {
    if (client.state !== "connected") await client.connect();
    return await server.waitForSession(5000);
  };
  return {
    prim,
    sec,
    root,
    zones,
    server,
    client,
    change(op) {
      applyTreeOpSync(root.fd, op);
      zones.note(0, op);
      return client.apply(op);
    },
    session,
    async resync(opts) {
      const r = await reintegrate({
        session: await session(),
        dirs: [{ dir: prim }],
        mode: "zones",
        nbRei: 4,
        reiPacketSize: 1 << 20,
        reiTimeoutMs: 10_000,
        ...opts,
      });
      for (let i = 0; i < 200 && client.needsResync; i++) await delay(10);
      assert.equal(client.needsResync, false, "the primary heard synced");
      return r;
    },
    async stopSecondary() {
      await server.session?.close("the secondary stops");
      for (let i = 0; i < 200 && client.state === "connected"; i++) await delay(10);
      assert.notEqual(client.state, "connected");
    },
    async close() {
      await client.close();
      await server.close();
      zones.close();
      root.close();
      await cleanup();
    },
  };
}

const write = (path: string, offset: number, length: number, fill = 7): TreeOp => ({
  kind: "write",
  path,
  offset,
  data: new Uint8Array(length).fill(fill),
});

/** A first full reintegration; returns the record the secondary keeps, marked clean (as at a clean stop). */
async function firstSync(p: Pair): Promise<SyncRecord> {
  const r = await p.resync({ mode: "full" });
  assert.deepEqual(await snapshot(p.sec), await snapshot(p.prim));
  assert.ok(r.syncPoints[0] !== null);
  return { ...r.syncPoints[0]!, clean: true };
}

Deno.test("after a clean stop only the zones modified while ALONE are copied, and the trees end equal", async () => {
  const p = await pair();
  try {
    const record = await firstSync(p);
    await p.stopSecondary();
    await p.change(write("d0/f0", 3 * Z + 10, 100)); // 1 zone
    await p.change(write("d1/f1", 5 * Z - 50, 100)); // 2 zones
    await p.change({ kind: "setattr", path: "d2/f2", size: 2 * Z + Z / 2 }); // the tail zone: Z/2
    await p.change(write("d0/f3", FILE_SIZE, 1000)); // appended: 1000 bytes
    await p.change({
      kind: "create",
      path: "d1/new",
      mode: 0o644,
      uid: 0,
      gid: 0,
      exclusive: true,
      truncate: false,
    });
    await p.change(write("d1/new", 0, 5000)); // new: 5000 bytes
    await p.change({ kind: "setattr", path: "d1/f4", mode: 0o600 }); // attributes only
    await p.change({ kind: "rename", from: "d2/f5", to: "d2/f5r", flags: 0 }); // a new name: whole
    await p.change({ kind: "unlink", path: "d0/f6" });
    await p.change({ kind: "mkdir", path: "fresh", mode: 0o755, uid: 0, gid: 0 });
    await p.change({
      kind: "create",
      path: "fresh/x",
      mode: 0o644,
      uid: 0,
      gid: 0,
      exclusive: true,
      truncate: false,
    });
    await p.change(write("fresh/x", 0, 300)); // 300 bytes

    const r = await p.resync({ zones: { records: [record] } });
    assert.deepEqual(r.strategies, ["zones"]);
    assert.equal(r.bytesCopied, Z + 2 * Z + Z / 2 + 1000 + 5000 + FILE_SIZE + 300);
    assert.equal(r.filesCopied, 8); // f0 f1 f2 f3 new f4 f5r x
    assert.deepEqual(await snapshot(p.sec), await snapshot(p.prim));
    // The new sync point: the primary's map is empty again and its generation moved with the record.
    assert.ok(p.zones.trackers[0].state.map.isEmpty);
    assert.equal(p.zones.trackers[0].state.generation, r.syncPoints[0]!.generation);
  } finally {
    await p.close();
  }
});

Deno.test("a secondary that did not stop cleanly copies the files modified since the sync point minus the grace delay", async () => {
  const p = await pair();
  try {
    const record = await firstSync(p);
    await p.stopSecondary();
    await p.change(write("d0/f0", 0, 10));
    const logs: string[] = [];
    const r = await p.resync({
      zones: { records: [{ ...record, clean: false }], graceMs: 5000 },
      log: (_, m) => logs.push(m),
    });
    assert.deepEqual(r.strategies, ["date"]);
    assert.ok(logs.some((m) => m.includes("this node was not stopped cleanly")), logs.join("\n"));
    assert.deepEqual(await snapshot(p.sec), await snapshot(p.prim));
  } finally {
    await p.close();
  }
});

Deno.test("a file changed on the secondary after its clean stop is copied whole, whatever the map says", async () => {
  const p = await pair();
  try {
    const record = await firstSync(p);
    await p.stopSecondary();
    const stoppedAtMs = Date.now();
    await delay(20);
    const f = await Deno.open(join(p.sec, "d1/f7"), { write: true });
    await f.write(new Uint8Array(10).fill(0xee)); // behind replication's back
    f.close();
    await p.change(write("d0/f0", 0, 10));
    const r = await p.resync({ zones: { records: [{ ...record, stoppedAtMs }] } });
    assert.deepEqual(r.strategies, ["zones"]);
    assert.equal(r.bytesCopied, Z + FILE_SIZE);
    assert.deepEqual(await snapshot(p.sec), await snapshot(p.prim));
  } finally {
    await p.close();
  }
});

Deno.test("a record of another map (another primary, or none) falls back to comparing size and date", async () => {
  const p = await pair();
  try {
    const record = await firstSync(p);
    await p.stopSecondary();
    await p.change(write("d0/f0", 0, 10));
    const r = await p.resync({ zones: { records: [{ ...record, mapId: "other" }] } });
    assert.deepEqual(r.strategies, ["compare"]);
    assert.deepEqual(await snapshot(p.sec), await snapshot(p.prim));
  } finally {
    await p.close();
  }
});

Deno.test("an interrupted zone reintegration resumes without copying the files it finished", async () => {
  const p = await pair();
  try {
    const record = await firstSync(p);
    await p.stopSecondary();
    for (let i = 0; i < FILES; i++) if (i !== 6) await p.change(write(`d${i % 3}/f${i}`, i * Z / 2, 10));
    const done = new Map<string, number>();
    const ctl = new AbortController();
    const first = reintegrate({
      session: await p.session(),
      dirs: [{ dir: p.prim }],
      mode: "zones",
      nbRei: 1,
      reiPacketSize: 1 << 20,
      reiTimeoutMs: 10_000,
      signal: ctl.signal,
      zones: {
        records: [record],
        onFileDone: (d, path, changes) => {
          done.set(`${d}\0${path}`, changes);
          if (done.size === 5) ctl.abort();
        },
      },
    });
    await assert.rejects(first, /stopResync/);
    assert.ok(done.size >= 5);
    const r = await p.resync({ zones: { records: [record], resume: done } });
    assert.equal(r.filesResumed, done.size);
    assert.equal(r.filesCopied, FILES - 1 - done.size);
    assert.deepEqual(await snapshot(p.sec), await snapshot(p.prim));
  } finally {
    await p.close();
  }
});

Deno.test("writes, truncates and appends during a zone reintegration end with equal trees", async () => {
  const p = await pair();
  try {
    const record = await firstSync(p);
    await p.stopSecondary();
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const randomChange = () => {
      const i = Math.floor(rand() * FILES);
      const path = `d${i % 3}/f${i}`;
      if (i === 6) return Promise.resolve(); // keeps the tree's shape simple: no recreate of an unlinked name
      if (rand() < 0.1) return p.change({ kind: "setattr", path, size: Math.floor(rand() * FILE_SIZE) });
      return p.change(write(path, Math.floor(rand() * FILE_SIZE), 1 + Math.floor(rand() * 3 * Z), i));
    };
    for (let k = 0; k < 60; k++) await randomChange();
    let writing = true;
    const writer = (async () => {
      while (writing) {
        await randomChange();
        await delay(1);
      }
    })();
    const r = await p.resync({ zones: { records: [record] }, reiPacketSize: 16 << 10 });
    writing = false;
    await writer;
    assert.deepEqual(r.strategies, ["zones"]);
    await delay(100);
    assert.deepEqual(await snapshot(p.sec), await snapshot(p.prim));
  } finally {
    await p.close();
  }
});
