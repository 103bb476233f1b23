// The primary's ReplicationClient and the secondary's ReplicationServer over loopback TCP.
import assert from "node:assert/strict";
import { join } from "node:path";
import { applyTreeOp } from "../../src/rfs/apply_tree_op.ts";
import type { TreeOp } from "../../src/rfs/tree_op.ts";
import type { ReplicationSession } from "../../src/rfs/replication_server.ts";
import { reintegrate } from "../../src/rfs/reintegration.ts";
import {
  delay,
  primaryClient,
  roots,
  snapshot,
  startSecondary,
  tempDirs,
} from "./protocol/loopback_fixture.ts";

const exists = (p: string) => Deno.lstat(p).then(() => true, () => false);
const create = (path: string): TreeOp => ({
  kind: "create",
  path,
  mode: 0o644,
  uid: 0,
  gid: 0,
  exclusive: false,
  truncate: false,
});
const bytes = (s: string) => new TextEncoder().encode(s);

/** A workload of ops as the FUSE server would hand them: applied locally first, then given to the sink. */
function workload(): TreeOp[] {
  const ops: TreeOp[] = [{ kind: "mkdir", path: "d", mode: 0o750, uid: 0, gid: 0 }];
  for (let i = 0; i < 40; i++) {
    ops.push(create(`d/f${i}`));
    for (let k = 0; k < 4; k++) {
      ops.push({ kind: "write", path: `d/f${i}`, offset: k * 5, data: bytes(`${i}-${k}.`.padEnd(5, "x")) });
    }
    const name = i % 3 === 0 ? `d/r${i}` : `d/f${i}`;
    if (i % 3 === 0) ops.push({ kind: "rename", from: `d/f${i}`, to: name, flags: 0 });
    if (i % 5 === 0) ops.push({ kind: "setattr", path: name, size: 3, mode: 0o600 });
    if (i % 7 === 1) ops.push({ kind: "unlink", path: name });
  }
  ops.push({ kind: "symlink", path: "link", target: "d/f2", uid: 0, gid: 0 });
  ops.push({ kind: "fsync", path: "d/f2", datasync: false });
  return ops;
}

async function withPair(
  serverOpts: Parameters<typeof startSecondary>[1],
  clientOpts: Parameters<typeof primaryClient>[2],
  body: (ctx: {
    prim: string;
    sec: string;
    client: ReturnType<typeof primaryClient>;
    sessions: ReplicationSession[];
    primRoot: ReturnType<typeof roots>[number];
  }) => Promise<void>,
  markSynced: (sessionIndex: number) => boolean = () => true,
) {
  const { dirs: [prim, sec], cleanup } = await tempDirs(2);
  const sessions: ReplicationSession[] = [];
  const server = await startSecondary([sec], {
    ...serverOpts,
    onSession: (s) => {
      if (markSynced(sessions.length)) s.markSynced(); // both trees start empty: equal
      sessions.push(s);
    },
  });
  const r = roots([prim]);
  const client = primaryClient(server, r, clientOpts);
  try {
    await client.connect();
    await body({ prim, sec, client, sessions, primRoot: r[0] });
  } finally {
    await client.close();
    await server.close();
    r.forEach((x) => x.close());
    await cleanup();
  }
}

for (const async of ["none", "second"] as const) {
  Deno.test(`replication: pipelined ops are applied in order on the secondary (async=${async})`, async () => {
    await withPair({}, { async }, async ({ prim, sec, client, primRoot }) => {
      const acks: Promise<void>[] = [];
      for (const op of workload()) {
        await applyTreeOp(primRoot, op); // local first, as the FUSE server does
        acks.push(client.apply(op)); // not awaited: many ops in flight, like concurrent FUSE requests
      }
      await Promise.all(acks);
      if (async === "second") await delay(200); // acked on receipt: the apply follows
      assert.deepEqual(await snapshot(sec), await snapshot(prim));
      assert.equal(client.stats.opsAcked, workload().length);
    });
  });
}

Deno.test("replication: async=second acks on receipt, before the secondary applied the op", async () => {
  const slowApply = async (root: Parameters<typeof applyTreeOp>[0], op: TreeOp) => {
    await delay(400);
    await applyTreeOp(root, op);
  };
  await withPair({ applyOp: slowApply }, { async: "second" }, async ({ sec, client }) => {
    const t0 = performance.now();
    await client.apply(create("x"));
    assert.ok(performance.now() - t0 < 300, `acked after ${performance.now() - t0} ms`);
    assert.equal(await exists(join(sec, "x")), false);
    await delay(600);
    assert.equal(await exists(join(sec, "x")), true);
  });
});

Deno.test("replication: async=none acks only once the secondary applied the op", async () => {
  const slowApply = async (root: Parameters<typeof applyTreeOp>[0], op: TreeOp) => {
    await delay(300);
    await applyTreeOp(root, op);
  };
  await withPair({ applyOp: slowApply }, { async: "none" }, async ({ sec, client }) => {
    const t0 = performance.now();
    await client.apply(create("y"));
    assert.ok(performance.now() - t0 >= 290);
    assert.equal(await exists(join(sec, "y")), true);
  });
});

Deno.test("replication: a secondary that stops answering triggers locktimeout; apply() never blocks longer", async () => {
  const lost: string[] = [];
  const hang = () => new Promise<void>(() => {});
  await withPair(
    { applyOp: hang },
    { async: "none", lockTimeoutMs: 400, onSecondaryLost: (r) => lost.push(r) },
    async ({ client }) => {
      const t0 = performance.now();
      await Promise.all([client.apply(create("a")), client.apply(create("b"))]);
      const waited = performance.now() - t0;
      assert.ok(waited >= 380 && waited < 1000, `apply() returned after ${waited} ms`);
      assert.deepEqual(lost.length, 1);
      assert.match(lost[0], /locktimeout: a replication request was not served within 400 ms/);
      assert.equal(client.state, "lost");
      assert.equal(client.needsResync, true);
      const t1 = performance.now();
      await client.apply(create("c")); // ALONE: local only, at once
      assert.ok(performance.now() - t1 < 50);
      assert.equal(client.stats.opsWhileAlone, 1);
    },
  );
});

Deno.test("replication: a secondary that stops reading triggers sendtimeout within the configured time", async () => {
  const lost: string[] = [];
  const hang = () => new Promise<void>(() => {});
  const big = new Uint8Array(16 << 20);
  await withPair(
    { applyOp: hang, maxQueuedBytes: 1 },
    {
      async: "second",
      lockTimeoutMs: 20_000,
      sendTimeoutMs: 500,
      maxInFlightBytes: 1 << 30,
      onSecondaryLost: (r) => lost.push(r),
    },
    async ({ client }) => {
      const t0 = performance.now();
      const acks = [];
      for (let i = 0; i < 8; i++) {
        acks.push(client.apply({ kind: "write", path: "f", offset: i * big.length, data: big }));
      }
      await Promise.all(acks);
      const waited = performance.now() - t0;
      assert.equal(lost.length, 1);
      assert.match(lost[0], /sendtimeout: a send to the secondary did not complete within 500 ms/);
      assert.ok(waited < 2500, `apply() returned after ${waited} ms`);
    },
  );
});

Deno.test("replication: after a loss, a reconnected secondary gets nothing applied until a reintegration", async () => {
  let stall = true;
  const applyOp = async (root: Parameters<typeof applyTreeOp>[0], op: TreeOp) => {
    if (stall) await new Promise<void>(() => {});
    await applyTreeOp(root, op);
  };
  await withPair(
    { applyOp },
    { async: "none", lockTimeoutMs: 300 },
    async ({ prim, sec, client, sessions, primRoot }) => {
      const run = async (op: TreeOp) => {
        await applyTreeOp(primRoot, op);
        await client.apply(op);
      };
      await run(create("before-loss"));
      assert.equal(client.state, "lost");
      stall = false;
      await client.connect();
      const session = sessions[sessions.length - 1];
      assert.equal(sessions.length, 2);
      await run(create("while-unsynced"));
      assert.equal(await exists(join(sec, "while-unsynced")), false);
      assert.equal(session.stats.opsDropped, 1);
      assert.equal(client.needsResync, true);
      const result = await reintegrate({
        session,
        dirs: [{ dir: prim }],
        mode: "full",
        nbRei: 2,
        reiPacketSize: 1 << 20,
        reiTimeoutMs: 5000,
      });
      assert.equal(result.filesCopied, 2);
      for (let i = 0; i < 50 && client.needsResync; i++) await delay(10);
      assert.equal(client.needsResync, false);
      await run(create("after-resync"));
      assert.deepEqual(await snapshot(sec), await snapshot(prim));
    },
    (index) => index === 0,
  ); // a new session is unsynced unless reintegration makes it synced
});
