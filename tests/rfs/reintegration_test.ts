// Reintegration of a secondary from a primary over loopback, including while an application keeps
// writing on the primary: at the end the trees must be equal.
import assert from "node:assert/strict";
import { join } from "node:path";
import { applyTreeOpSync } from "../../src/rfs/apply_tree_op.ts";
import { reintegrate, type ReintegrationOptions } from "../../src/rfs/reintegration.ts";
import { replicationFilter } from "../../src/rfs/replication_filter.ts";
import type { ReplicationSession } from "../../src/rfs/replication_server.ts";
import type { TreeOp } from "../../src/rfs/tree_op.ts";
import type { ReplicationClient } from "../../src/rfs/replication_client.ts";
import type { TreeRoot } from "../../src/rfs/beneath_root.ts";
import {
  delay,
  primaryClient,
  roots,
  snapshot,
  startSecondary,
  tempDirs,
} from "./protocol/loopback_fixture.ts";

const filterCfg = { notReplicatedPaths: ["tmp"], notReplicatedRegexps: ["\\.log$"] };
const excluded = (p: string) => p === "tmp" || p.startsWith("tmp/") || p.endsWith(".log");
const withoutExcluded = (s: Record<string, string>) =>
  Object.fromEntries(Object.entries(s).filter(([p]) => !excluded(p)));

/** Deterministic pseudo-random numbers (a failing run can be replayed). */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

async function writeFile(dir: string, rel: string, size: number, fill: number, mtimeSec?: number) {
  const p = join(dir, rel);
  await Deno.mkdir(join(p, ".."), { recursive: true });
  await Deno.writeFile(p, new Uint8Array(size).map((_, i) => (i * 31 + fill) & 0xff));
  if (mtimeSec !== undefined) await Deno.utime(p, mtimeSec, mtimeSec);
}

/** A primary tree with a few hundred entries, and a stale secondary tree that differs in every way. */
async function populate(prim: string, sec: string) {
  for (let d = 0; d < 12; d++) {
    for (let f = 0; f < 8; f++) {
      const size = (d * 8 + f) * 997 % 40_000;
      await writeFile(prim, `dir${d}/f${f}`, size, d + f, 1_600_000_000 + f);
      if (f < 4) await writeFile(sec, `dir${d}/f${f}`, size, d + f, 1_600_000_000 + f); // same: not copied
      else if (f === 4) await writeFile(sec, `dir${d}/f${f}`, size, 99, 1_500_000_000); // stale
    }
    await Deno.mkdir(join(prim, `dir${d}/sub`));
    await writeFile(prim, `dir${d}/sub/deep`, 100, d);
  }
  await writeFile(prim, "big1", 3 << 20, 1); // several read packets
  await writeFile(prim, "big2", (2 << 20) + 123, 2);
  await Deno.symlink("dir1/f1", join(prim, "link"));
  await new Deno.Command("mkfifo", { args: [join(prim, "fifo")] }).output();
  await writeFile(prim, "tmp/scratch", 10, 1); // excluded: not copied
  await writeFile(prim, "dir0/debug.log", 10, 1);
  // Secondary only: stale entries to delete, a type conflict, and excluded files to keep.
  await writeFile(sec, "old/a/b", 10, 1);
  await writeFile(sec, "dir3/extra", 10, 1);
  await writeFile(sec, "big1/not-a-dir", 10, 1);
  await Deno.symlink("elsewhere", join(sec, "link"));
  await writeFile(sec, "tmp/keep-me", 5, 5);
  await writeFile(sec, "dir5/local.log", 5, 5);
}

/**
 * An application writing on the primary as the FUSE server would replicate it: each op is applied to
 * the local tree and handed to the sink in one synchronous stretch; failing ops are not replicated.
 */
function startWriter(root: TreeRoot, client: ReplicationClient, seed: number) {
  const rand = rng(seed);
  const pick = <T>(a: T[]) => a[Math.floor(rand() * a.length)];
  const files = Array.from({ length: 12 * 8 }, (_, i) => `dir${Math.floor(i / 8)}/f${i % 8}`).concat([
    "big1",
    "big2",
  ]);
  const dirs = Array.from({ length: 12 }, (_, d) => `dir${d}`);
  let n = 0, stop = false;
  const inFlight = new Set<Promise<void>>();
  const step = () => {
    const f = pick(files);
    const r = rand();
    let op: TreeOp;
    if (r < 0.45) {
      op = {
        kind: "write",
        path: f,
        offset: Math.floor(rand() * 4 << 20 >>> 0) % (3 << 20),
        data: new Uint8Array(1 + Math.floor(rand() * 5000)).fill(n & 0xff),
      };
    } else if (r < 0.55) {
      const p = `${pick(dirs)}/new${n}`;
      files.push(p);
      op = { kind: "create", path: p, mode: 0o640, uid: 0, gid: 0, exclusive: true, truncate: false };
    } else if (r < 0.62) op = { kind: "setattr", path: f, size: Math.floor(rand() * 50_000) };
    else if (r < 0.7) {
      const to = `${pick(dirs)}/moved${n}`;
      files.push(to);
      op = { kind: "rename", from: f, to, flags: 0 };
    } else if (r < 0.76) op = { kind: "unlink", path: f };
    else if (r < 0.8) {
      const d = `${pick(dirs)}/nd${n}`;
      dirs.push(d);
      op = { kind: "mkdir", path: d, mode: 0o755, uid: 0, gid: 0 };
    } else if (r < 0.83) {
      const from = pick(dirs), to = `${pick(dirs)}/rd${n}`;
      dirs.push(to);
      op = { kind: "rename", from, to, flags: 0 };
    } else if (r < 0.9) op = { kind: "setattr", path: f, mode: 0o600 + (n % 64) };
    else if (r < 0.95) op = { kind: "symlink", path: `${pick(dirs)}/sl${n}`, target: f, uid: 0, gid: 0 };
    else op = { kind: "write", path: f, offset: 0, data: new Uint8Array(3).fill(7) };
    n++;
    try {
      applyTreeOpSync(root.fd, op);
    } catch {
      return; // failed locally: the FUSE server replies with the error and replicates nothing
    }
    const p = client.apply(op);
    inFlight.add(p);
    void p.then(() => inFlight.delete(p));
  };
  const done = (async () => {
    while (!stop) {
      for (let i = 0; i < 5; i++) step();
      while (inFlight.size > 16) await Promise.race(inFlight);
      await delay(1);
    }
    await Promise.all(inFlight);
  })();
  return { ops: () => n, stop: async () => ((stop = true), await done) };
}

async function withPrimaryAndSecondary(
  body: (ctx: {
    prim: string;
    sec: string;
    client: ReplicationClient;
    session: ReplicationSession;
    primRoot: TreeRoot;
    base: Omit<ReintegrationOptions, "session" | "mode">;
    logs: string[];
  }) => Promise<void>,
  prepare: (prim: string, sec: string) => Promise<void> = populate,
) {
  const { dirs: [prim, sec], cleanup } = await tempDirs(2);
  await prepare(prim, sec);
  const server = await startSecondary([sec]);
  const r = roots([prim]);
  const client = primaryClient(server, r, { filters: [replicationFilter(filterCfg)] });
  const logs: string[] = [];
  try {
    await client.connect();
    const session = await server.waitForSession(2000);
    await body({
      prim,
      sec,
      client,
      session,
      primRoot: r[0],
      logs,
      base: {
        dirs: [{ dir: prim, filter: replicationFilter(filterCfg) }],
        nbRei: 4,
        reiPacketSize: 256 << 10,
        reiTimeoutMs: 10_000,
        log: (_level, m) => logs.push(m),
      },
    });
  } finally {
    await client.close();
    await server.close();
    r.forEach((x) => x.close());
    await cleanup();
  }
}

Deno.test("reintegration: copies what differs, deletes what the primary lacks, keeps <notreplicated> paths", async () => {
  await withPrimaryAndSecondary(async ({ prim, sec, session, base, logs }) => {
    const progress: number[] = [];
    const result = await reintegrate({
      ...base,
      session,
      mode: "zones",
      onProgress: (p) => progress.push(p),
    });
    assert.deepEqual(withoutExcluded(await snapshot(sec)), withoutExcluded(await snapshot(prim)));
    // Files copied keep the primary's mtime, so the next reintegration finds them equal.
    const mt = (s: Record<string, string>) =>
      Object.entries(s).filter(([p, v]) => v.startsWith("f") && !excluded(p));
    assert.deepEqual(mt(await snapshot(sec, { mtime: true })), mt(await snapshot(prim, { mtime: true })));
    assert.ok(await Deno.lstat(join(sec, "tmp/keep-me")));
    assert.ok(await Deno.lstat(join(sec, "dir5/local.log")));
    await assert.rejects(Deno.lstat(join(sec, "tmp/scratch")));
    await assert.rejects(Deno.lstat(join(sec, "dir0/debug.log")));
    // per dir: 1 stale + 3 missing + sub/deep; then big1, big2 (the 4 identical files per dir are skipped)
    assert.equal(result.filesCopied, 12 * 5 + 2);
    assert.equal(session.mode, "synced");
    assert.deepEqual(progress, [...progress].sort((a, b) => a - b));
    assert.equal(progress.at(-1), 100);
    assert.equal(logs[0], `Updating directory tree from ${prim}`);
    assert.match(logs[1], /^Copied \d+\.\d MB in 62 files in \d+\.\d s \(\d+ KB\/s\)$/);
    assert.equal(logs[2], "Reintegration ended (synchronize)");
    const again = await reintegrate({ ...base, session, mode: "zones" });
    assert.equal(again.filesCopied, 0);
    const full = await reintegrate({ ...base, session, mode: "full" });
    assert.equal(full.filesCopied, 12 * 9 + 2);
  });
});

for (const seed of [1, 2, 3]) {
  Deno.test(`reintegration: the trees are equal at the end while the application keeps writing (seed ${seed})`, async () => {
    await withPrimaryAndSecondary(async ({ prim, sec, client, session, primRoot, base }) => {
      const writer = startWriter(primRoot, client, seed);
      const result = await reintegrate({ ...base, session, mode: seed === 3 ? "full" : "zones" });
      await delay(100); // ops after the end are applied as they come
      await writer.stop();
      assert.ok(writer.ops() > 50, `only ${writer.ops()} ops were written`);
      assert.ok(result.opsApplied + result.opsDropped > 0);
      assert.equal(client.needsResync, false);
      assert.deepEqual(withoutExcluded(await snapshot(sec)), withoutExcluded(await snapshot(prim)));
    });
  });
}

Deno.test("reintegration: a missing <tocheck> file on the primary refuses it before touching anything", async () => {
  await withPrimaryAndSecondary(async ({ sec, session, base }) => {
    const before = await snapshot(sec);
    await assert.rejects(
      reintegrate({
        ...base,
        session,
        mode: "full",
        dirs: [{ ...base.dirs[0], toCheck: ["dir1/f1", "mounted.flag"] }],
      }),
      /<tocheck path="mounted.flag">: .*\/mounted.flag does not exist on the primary; reintegration refused/,
    );
    assert.deepEqual(await snapshot(sec), before);
    assert.equal(session.mode, "unsynced");
  });
});

Deno.test("reintegration: reiallowedbw caps the copy throughput", async () => {
  await withPrimaryAndSecondary(async ({ session, base }) => {
    const t0 = performance.now();
    const r = await reintegrate({
      ...base,
      session,
      mode: "full",
      reiPacketSize: 64 << 10,
      reiAllowedBwKBs: 1024,
    });
    const secs = (performance.now() - t0) / 1000;
    assert.equal(r.bytesCopied, 1 << 20);
    // 1 MiB at 1024 KB/s: the first packet goes at once, the 15 others wait their turn.
    assert.ok(secs >= 0.85 && secs < 3, `took ${secs} s`);
  }, async (prim) => {
    await writeFile(prim, "one", 1 << 20, 3);
  });
});

Deno.test("reintegration: stopResync (abort) stops it with a reason and leaves the session unsynced", async () => {
  await withPrimaryAndSecondary(async ({ session, base }) => {
    const stop = new AbortController();
    const run = reintegrate({
      ...base,
      session,
      mode: "full",
      reiPacketSize: 64 << 10,
      reiAllowedBwKBs: 512,
      signal: stop.signal,
    });
    setTimeout(() => stop.abort(), 200);
    await assert.rejects(run, /reintegration stopped \(stopResync\)/);
    assert.equal(session.mode, "unsynced");
  }, async (prim) => {
    await writeFile(prim, "one", 1 << 20, 3);
  });
});
