// End to end on one machine: a real FUSE mount of the primary's directory with the ReplicationClient as its
// sink, a ReplicationServer applying to the secondary's directory over loopback TCP. After each step, which
// ends with an fsync, the secondary's tree must equal what the application sees through the mount.
//
// The FUSE server runs in this test process: the mount is touched only through subprocesses and
// asynchronous Deno APIs (a synchronous call would block the thread that must answer it).

import assert from "node:assert/strict";
import { mountReplicatedDir, type ReplicatedMount } from "../../src/rfs/fuse/mod.ts";
import type { ReplicationSession } from "../../src/rfs/replication_server.ts";
import { reintegrate } from "../../src/rfs/reintegration.ts";
import { skipUnless } from "../support/privileges.ts";
import { primaryClient, roots, snapshot, startSecondary, tempDirs } from "./protocol/loopback_fixture.ts";

const skip = skipUnless({ root: true, devices: ["/dev/fuse"] });

const dec = new TextDecoder();
async function sh(dir: string, script: string): Promise<void> {
  // `cd` inside bash: spawning with cwd in the mount would deadlock (see docs/replication-fuse.md).
  const out = await new Deno.Command("bash", { args: ["-euo", "pipefail", "-c", `cd "$0"\n${script}`, dir] })
    .output();
  if (!out.success) throw new Error(`shell failed (${out.code}): ${script}\n${dec.decode(out.stderr)}`);
}

type Pair = {
  readonly client: ReturnType<typeof primaryClient>;
  readonly session: ReplicationSession;
  readonly mount: ReplicatedMount;
};

/** A secondary on `sec`, `prim` mounted with the client as its sink, connected; everything undone after. */
async function withReplicatedMount(
  prim: string,
  sec: string,
  async: "second" | "none",
  fn: (p: Pair) => Promise<void>,
): Promise<void> {
  const server = await startSecondary([sec]);
  const r = roots([prim]);
  const client = primaryClient(server, r, { async });
  const mount = await mountReplicatedDir(prim, { sink: client });
  try {
    await client.connect();
    await fn({ client, mount, session: await server.waitForSession(2000) });
  } finally {
    await mount.unmount();
    await client.close();
    await server.close();
    r.forEach((x) => x.close());
  }
}

const STEPS = [
  "mkdir -p a/b && echo hello > a/b/f && sync a/b/f",
  "dd if=/dev/urandom of=big bs=1M count=12 conv=fsync status=none",
  "dd if=/dev/zero of=big bs=4k count=3 seek=100 conv=notrunc,fsync status=none",
  "mv a/b/f a/g && ln -s a/g link && chmod 600 a/g && chown 1234:5678 a/g && sync a/g",
  "truncate -s 1000 big && cp big a/b/copy && rm -r a/b && sync big",
  "mkdir c && for i in $(seq 1 30); do echo $i > c/$i; done && mv c d && sync d/30",
];

Deno.test({
  name: "replication over FUSE: after every fsync the secondary equals what the application sees",
  ignore: skip !== null,
  fn: async () => {
    const { dirs: [prim, sec], cleanup } = await tempDirs(2);
    await Deno.writeTextFile(`${prim}/before`, "written before the mount\n");
    try {
      await withReplicatedMount(prim, sec, "none", async ({ client, session }) => {
        await reintegrate({
          session,
          dirs: [{ dir: prim }],
          mode: "full",
          nbRei: 2,
          reiPacketSize: 1 << 20,
          reiTimeoutMs: 5000,
        });
        assert.deepEqual(await snapshot(sec), await snapshot(prim));
        for (const step of STEPS) {
          await sh(prim, step);
          assert.deepEqual(await snapshot(sec), await snapshot(prim), `after: ${step}`);
        }
        assert.equal(client.state, "connected");
        assert.ok(client.stats.opsAcked > 50);
      });
    } finally {
      await cleanup();
    }
  },
});

const WRITER = `
for i in $(seq 1 150); do
  d=dir$((i % 10))
  echo "line $i" >> $d/log
  dd if=/dev/urandom of=$d/f$((i % 7)) bs=8k count=$((i % 5 + 1)) seek=$((i % 3)) conv=notrunc status=none
  if [ $((i % 9)) -eq 0 ]; then mv $d/f1 $d/moved$i 2>/dev/null || true; fi
  if [ $((i % 13)) -eq 0 ]; then rm -f $d/f2; mkdir -p $d/sub$i; echo x > $d/sub$i/y; fi
  if [ $((i % 29)) -eq 0 ]; then mv $d dir_renamed$i && mkdir $d; fi
done
sync log0 2>/dev/null || true
`;

Deno.test({
  name:
    "replication over FUSE: reintegration while an application writes through the mount ends with equal trees",
  ignore: skip !== null,
  fn: async () => {
    const { dirs: [prim, sec], cleanup } = await tempDirs(2);
    for (let d = 0; d < 10; d++) {
      await Deno.mkdir(`${prim}/dir${d}`);
      for (let f = 0; f < 7; f++) {
        await Deno.writeFile(`${prim}/dir${d}/f${f}`, new Uint8Array(200_000).fill(d + f));
      }
      await Deno.mkdir(`${sec}/dir${d}`);
      await Deno.writeTextFile(`${sec}/dir${d}/stale`, "stale");
    }
    try {
      await withReplicatedMount(prim, sec, "second", async ({ client, session }) => {
        const writer = sh(prim, WRITER);
        const result = await reintegrate({
          session,
          dirs: [{ dir: prim }],
          mode: "zones",
          nbRei: 3,
          reiPacketSize: 64 << 10,
          reiAllowedBwKBs: 12 * 1024, // ~1.2 s: long enough to overlap many writes
          reiTimeoutMs: 10_000,
        });
        await writer;
        assert.ok(
          result.opsApplied + result.opsDropped > 30,
          `only ${result.opsApplied + result.opsDropped} live ops`,
        );
        await new Promise((r) => setTimeout(r, 200)); // async="second": the last applies follow their acks
        assert.ok(result.filesCopied >= 70);
        assert.equal(client.needsResync, false);
        assert.deepEqual(await snapshot(sec), await snapshot(prim));
      });
    } finally {
      await cleanup();
    }
  },
});

// Large writes are copied into the backing file on a worker thread while they replicate; every other change
// waits for that copy (passthrough_fs.ts, handle). The kernel already serialises a write with a truncate of
// the same inode, but each name of a hard-linked file is its own FUSE node: a truncate through one name
// races a write through the other. Both copies must end byte for byte equal. (The race is rare on demand:
// tests/rfs/fuse/passthrough_fs_test.ts checks the ordering itself deterministically.)
const CONCURRENT_WRITERS = [
  // each write lands past the previous ones, so no later write hides the effect of a race
  "for i in $(seq 0 40); do dd if=/dev/urandom of=shared bs=1M count=1 seek=$i conv=notrunc status=none; done; touch done",
  // cuts the file to half its size through the other name, until the writer ends
  "while [ ! -e done ]; do truncate -s $(($(stat -c %s alias) / 2)) alias; done",
  "while [ ! -e done ]; do chmod 6$((RANDOM % 8))4 alias; done",
];

Deno.test({
  name: "replication over FUSE: large writes racing truncates through a hard link leave equal copies",
  ignore: skip !== null,
  fn: async () => {
    const { dirs: [prim, sec], cleanup } = await tempDirs(2);
    try {
      await withReplicatedMount(prim, sec, "second", async ({ client, session, mount }) => {
        session.markSynced(); // both trees are empty
        await sh(prim, "touch shared && ln shared alias");
        await Promise.all(CONCURRENT_WRITERS.map((script) => sh(prim, script)));
        // Past every write: a write that landed locally after a truncate it preceded in the stream shows here.
        await sh(prim, "truncate -s 50000000 alias");
        await sh(prim, "sync shared");
        await new Promise((r) => setTimeout(r, 300)); // async="second": the last applies follow their acks
        assert.ok(
          mount.fs.stats.overlappedWrites > 30,
          `${mount.fs.stats.overlappedWrites} overlapped writes`,
        );
        assert.equal(client.state, "connected");
        assert.deepEqual(await snapshot(sec), await snapshot(prim));
      });
    } finally {
      await cleanup();
    }
  },
});

Deno.test({
  name:
    "replication over FUSE: a large write that fails locally after it was sent (disk full) drops the secondary",
  ignore: skip !== null,
  fn: async () => {
    const { dirs: [prim, sec], cleanup } = await tempDirs(2);
    // The primary's backing directory on a 2 MiB tmpfs: its third MiB cannot be written (ENOSPC).
    const mounted = await new Deno.Command("mount", { args: ["-t", "tmpfs", "-o", "size=2m", "tmpfs", prim] })
      .output();
    assert.ok(mounted.success, new TextDecoder().decode(mounted.stderr));
    try {
      await withReplicatedMount(prim, sec, "second", async ({ client, session, mount }) => {
        session.markSynced(); // both trees are empty
        const out = await new Deno.Command("dd", {
          args: ["if=/dev/zero", `of=${prim}/big`, "bs=1M", "count=4", "status=none"],
        }).output();
        assert.equal(out.success, false, "the application sees the failure");
        assert.match(new TextDecoder().decode(out.stderr), /No space left on device/);
        assert.ok(mount.fs.stats.overlappedWrites >= 2);
        assert.equal(client.state, "lost", "the secondary may hold what the primary does not: dropped");
        assert.equal(client.needsResync, true);
      });
    } finally {
      await new Deno.Command("umount", { args: ["-l", prim] }).output();
      await cleanup();
    }
  },
});
