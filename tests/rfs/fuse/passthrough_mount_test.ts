// Real FUSE mounts (needs root and /dev/fuse): a shell workload through the mount must behave like the same
// workload on a plain directory, every change must reach the sink in order, and replaying what the sink got
// must rebuild the same tree.
//
// The server runs inside this test process, so this file touches the mount only through subprocesses and
// asynchronous Deno APIs: a synchronous call would block the thread that has to answer it.

import assert from "node:assert/strict";
import { applyTreeOp } from "../../../src/rfs/apply_tree_op.ts";
import { clearStaleMount, mountReplicatedDir } from "../../../src/rfs/fuse/mod.ts";
import { cstr, sys } from "../../../src/rfs/fuse/libc.ts";
import type { ReplicationSink, TreeOp } from "../../../src/rfs/tree_op.ts";
import { skipUnless } from "../../support/privileges.ts";

// CI=true never skips: a CI machine without FUSE must fail loudly rather than pass silently.
const ignore = skipUnless({ root: true, devices: ["/dev/fuse"] }) !== null;

const dec = new TextDecoder();

/**
 * Runs a bash script in `dir`. The `cd` happens inside bash, after exec: spawning with `cwd` set to the mount
 * would make the forked child chdir() into the mount while this process's JS thread — the one that must
 * answer that GETATTR — is still suspended in the spawn, and both would wait forever.
 */
async function sh(dir: string, script: string, env: Record<string, string> = {}): Promise<string> {
  const args = ["-euo", "pipefail", "-c", `cd "$0"\n${script}`, dir];
  const out = await new Deno.Command("bash", { args, env }).output();
  if (!out.success) {
    throw new Error(`shell failed in ${dir} (${out.code}): ${script}\n${dec.decode(out.stderr)}`);
  }
  return dec.decode(out.stdout);
}

/** Records a deep copy of every op: the server reuses its buffers once apply() settles. */
class RecordingSink implements ReplicationSink {
  readonly ops: TreeOp[] = [];
  apply(op: TreeOp): Promise<void> {
    if (op.kind === "write") this.ops.push({ ...op, data: op.data.slice() });
    else if (op.kind === "setxattr") this.ops.push({ ...op, value: op.value.slice() });
    else this.ops.push(op);
    return Promise.resolve();
  }
}

async function makeInitialTree(dir: string): Promise<void> {
  await Deno.mkdir(`${dir}/olddir/sub`, { recursive: true });
  await Deno.writeTextFile(`${dir}/existing`, "before mount\n");
  await Deno.writeTextFile(`${dir}/to_delete`, "bye\n");
  await Deno.writeTextFile(`${dir}/appended`, "123");
  await Deno.writeTextFile(`${dir}/olddir/sub/f1`, "f1");
  await Deno.symlink("existing", `${dir}/initial_link`);
}

const WORKLOAD = `
test "$(cat existing)" = "before mount"
cp existing copy_of_existing
echo hello > new.txt
mkdir -p deep/a/b
mv new.txt deep/a/b/moved.txt
ln -s deep/a/b/moved.txt link_to_moved
ln existing hardlink
chmod 640 deep/a/b/moved.txt
chown 1234:5678 deep/a/b/moved.txt
truncate -s 100 sized
truncate -s 3 copy_of_existing
touch -d '2021-02-03 04:05:06.5' deep/a/b/moved.txt
touch -h -d '2019-01-01' link_to_moved
dd if="$SRC" of=big.bin bs=1M count=20 conv=fsync status=none
mkdir -p trash/x/y && echo z > trash/x/y/f && rm -r trash
mv olddir renamed_dir
printf 'abc' >> appended
mkfifo fifo
rm to_delete
printf x > suid_file && chmod 6777 suid_file
setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'printf y >> suid_file'
if command -v python3 >/dev/null; then
  python3 -c "import os; os.setxattr('sized', 'user.k', b'v1'); os.setxattr('sized', 'user.gone', b'x'); os.removexattr('sized', 'user.gone')"
fi
`;
const EXPLICIT_MTIMES = new Set(["deep/a/b/moved.txt", "link_to_moved"]);

type Entry = Record<string, string | number>;

function xattrsOf(path: string): string {
  const names = new Uint8Array(4096);
  const n = Number(sys.llistxattr(cstr(path), names, 4096n));
  if (n <= 0) return "";
  const out: string[] = [];
  for (const name of dec.decode(names.subarray(0, n)).split("\0").filter((s) => s.startsWith("user."))) {
    const v = new Uint8Array(4096);
    const len = Number(sys.lgetxattr(cstr(path), cstr(name), v, 4096n));
    out.push(`${name}=${dec.decode(v.subarray(0, len))}`);
  }
  return out.sort().join(",");
}

/** Everything the replicas must agree on, per path. Call only on a directory that is not mounted. */
async function snapshot(dir: string, rel = ""): Promise<Map<string, Entry>> {
  const out = new Map<string, Entry>();
  const names = [...Deno.readDirSync(rel ? `${dir}/${rel}` : dir)].map((e) => e.name).sort();
  for (const name of names) {
    const path = rel ? `${rel}/${name}` : name;
    const full = `${dir}/${path}`;
    const st = Deno.lstatSync(full);
    const e: Entry = { perm: st.mode! & 0o7777, uid: st.uid!, gid: st.gid!, xattrs: "" };
    if (EXPLICIT_MTIMES.has(path)) e.mtime = st.mtime!.getTime();
    if (st.isSymlink) {
      e.type = "symlink";
      e.target = Deno.readLinkSync(full);
    } else if (st.isDirectory) {
      e.type = "dir";
      e.xattrs = xattrsOf(full);
      for (const [k, v] of await snapshot(dir, path)) out.set(k, v);
    } else if (st.isFile) {
      e.type = "file";
      e.size = st.size;
      e.sha256 = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", Deno.readFileSync(full))))
        .map((b) => b.toString(16).padStart(2, "0")).join("");
      e.xattrs = xattrsOf(full);
    } else e.type = st.isFifo ? "fifo" : "other";
    out.set(path, e);
  }
  return out;
}

function signature(op: TreeOp): string {
  switch (op.kind) {
    case "rename":
      return `rename ${op.from} ${op.to}`;
    case "link":
      return `link ${op.path} ${op.newPath}`;
    case "setattr":
      return `setattr ${op.path} ${
        ["mode", "uid", "size", "mtime"].filter((k) => k in op && op[k as keyof typeof op] !== undefined)
          .join("+")
      }`;
    case "setxattr":
    case "removexattr":
      return `${op.kind} ${op.path} ${op.name}`;
    default:
      return `${op.kind} ${op.path}`;
  }
}

function assertSubsequence(actual: string[], expected: string[]): void {
  let i = 0;
  for (const s of actual) if (i < expected.length && s === expected[i]) i++;
  assert.equal(
    i,
    expected.length,
    `missing or out of order: ${expected[i]}\nsink got:\n${actual.join("\n")}`,
  );
}

Deno.test({
  name:
    "FUSE passthrough: a shell workload matches a plain directory, and replaying the sink rebuilds the tree",
  ignore,
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "safekit-fuse-" });
    await Deno.chmod(base, 0o755); // the unprivileged writer in the workload must reach the trees
    const [mnt, plain, replica] = [`${base}/mnt`, `${base}/plain`, `${base}/replica`];
    const src = `${base}/source.bin`;
    const block = new Uint8Array(1 << 20);
    const f = await Deno.open(src, { write: true, create: true });
    for (let i = 0; i < 20; i++) {
      crypto.getRandomValues(block.subarray(0, 65536));
      block.copyWithin(65536, 0, 65536 * 15);
      await f.write(block);
    }
    f.close();
    for (const d of [mnt, plain]) {
      await Deno.mkdir(d);
      await makeInitialTree(d);
    }
    await sh(base, `cp -a mnt replica`);
    const sink = new RecordingSink();
    const mount = await mountReplicatedDir(mnt, { sink });
    let unmounted = false;
    try {
      const mounts = await Deno.readTextFile("/proc/self/mounts");
      assert.match(mounts, new RegExp(`^safekit ${mnt} fuse\\.safekit `, "m"));
      assert.equal(mount.session.stats.negotiatedMaxWrite, 1 << 20);
      assert.deepEqual(
        (await sh(mnt, "ls -A")).trim().split("\n"),
        ["appended", "existing", "initial_link", "olddir", "to_delete"],
        "files already in the directory stay visible through the mount",
      );
      await sh(mnt, WORKLOAD, { SRC: src });
      await sh(plain, WORKLOAD, { SRC: src });
      await mount.unmount();
      unmounted = true;
      assert.doesNotMatch(await Deno.readTextFile("/proc/self/mounts"), new RegExp(mnt));

      const expected = await snapshot(plain);
      assert.deepEqual(await snapshot(mnt), expected, "the unmounted directory holds every change");

      const sigs = sink.ops.map(signature);
      assertSubsequence(sigs, [
        "create copy_of_existing",
        "write copy_of_existing",
        "create new.txt",
        "write new.txt",
        "mkdir deep",
        "mkdir deep/a",
        "mkdir deep/a/b",
        "rename new.txt deep/a/b/moved.txt",
        "symlink link_to_moved",
        "link existing hardlink",
        "setattr deep/a/b/moved.txt mode",
        "setattr deep/a/b/moved.txt uid",
        "create sized",
        "setattr sized size",
        "setattr copy_of_existing size",
        "setattr deep/a/b/moved.txt mtime",
        "setattr link_to_moved mtime",
        "create big.bin",
        "write big.bin",
        "fsync big.bin",
        "mkdir trash",
        "create trash/x/y/f",
        "unlink trash/x/y/f",
        "rmdir trash/x/y",
        "rmdir trash/x",
        "rmdir trash",
        "rename olddir renamed_dir",
        "write appended",
        "mknod fifo",
        "unlink to_delete",
        "create suid_file",
        "write suid_file",
        "setattr suid_file mode", // chmod 6777
        "setattr suid_file mode", // the unprivileged append drops setuid/setgid first
        "write suid_file",
        ...(sigs.some((s) => s.startsWith("setxattr"))
          ? ["setxattr sized user.k", "setxattr sized user.gone", "removexattr sized user.gone"]
          : []),
      ]);
      const big = sink.ops.filter((o) => "path" in o && o.path === "big.bin");
      const writes = big.filter((o) => o.kind === "write");
      assert.deepEqual(writes.map((o) => o.offset), Array.from({ length: 20 }, (_, i) => i << 20));
      assert.ok(writes.every((o) => o.data.length === 1 << 20), "1 MiB writes arrive whole (max_write)");
      assert.equal(big.at(-1)!.kind, "fsync", "conv=fsync: the fsync follows every write");
      const append = sink.ops.find((o) => o.kind === "write" && o.path === "appended");
      assert.equal(
        append?.kind === "write" && append.offset,
        3,
        "an append is replicated at its real offset",
      );

      for (const op of sink.ops) await applyTreeOp(replica, op);
      assert.deepEqual(await snapshot(replica), expected, "replaying the sink's ops rebuilds the same tree");
    } finally {
      if (!unmounted) await mount.unmount();
      await Deno.remove(base, { recursive: true });
    }
  },
});

Deno.test({
  name: "FUSE passthrough: a sink that takes 200 ms on one write does not hold up reading another file",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "safekit-fuse-" });
    await Deno.writeTextFile(`${dir}/other.txt`, "readable\n");
    let slowWriteArrived!: () => void;
    const arrived = new Promise<void>((r) => (slowWriteArrived = r));
    const sink: ReplicationSink = {
      apply(op) {
        if (op.kind !== "write" || op.path !== "slow.bin") return Promise.resolve();
        slowWriteArrived();
        return new Promise((r) => setTimeout(r, 200));
      },
    };
    const mount = await mountReplicatedDir(dir, { sink });
    try {
      let writerDone = false;
      const t0 = performance.now();
      const writer = sh(dir, "dd if=/dev/zero of=slow.bin bs=64k count=1 status=none").then(() => {
        writerDone = true;
        return performance.now() - t0;
      });
      await arrived;
      const t1 = performance.now();
      const read = await new Deno.Command("cat", { args: [`${dir}/other.txt`] }).output();
      const readMs = performance.now() - t1;
      assert.equal(dec.decode(read.stdout), "readable\n");
      assert.equal(writerDone, false, "the read finished while the replicated write was still waiting");
      assert.ok(readMs < 200, `reading took ${readMs.toFixed(0)} ms`);
      assert.ok((await writer) >= 200, "the write was acknowledged only after the sink");
    } finally {
      await mount.unmount();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "FUSE passthrough: after the server is killed, a lazy unmount gives the directory back with its files",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "safekit-fuse-" });
    await Deno.writeTextFile(`${dir}/existing`, "kept\n");
    const children: Deno.ChildProcess[] = [];
    const fixture = new URL("./serve_dir_fixture.ts", import.meta.url).pathname;
    /** Starts the server in a child process and waits until it serves. */
    const serve = async () => {
      const child = new Deno.Command(Deno.execPath(), { args: ["run", "-A", fixture, dir], stdout: "piped" })
        .spawn();
      children.push(child);
      const reader = child.stdout.getReader();
      let seen = "";
      while (!seen.includes("ready")) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`fixture exited before mounting: ${seen}`);
        seen += dec.decode(value);
      }
      reader.releaseLock();
      return child;
    };
    const kill = async (child: Deno.ChildProcess) => {
      child.kill("SIGKILL");
      await child.status;
      await child.stdout.cancel().catch(() => {});
      const broken = await new Deno.Command("stat", { args: [dir], stderr: "piped" }).output();
      assert.equal(broken.success, false);
      assert.match(dec.decode(broken.stderr), /Transport endpoint is not connected/);
    };
    try {
      await kill(
        await serve().then(async (c) => {
          await sh(dir, "echo 'written through the mount' > during && cat existing");
          return c;
        }),
      );
      await sh("/", `umount -l ${dir}`);
      assert.equal(await Deno.readTextFile(`${dir}/existing`), "kept\n");
      assert.equal(await Deno.readTextFile(`${dir}/during`), "written through the mount\n");

      // The same crash again, recovered the way the node service does it: remounting clears the stale mount.
      await kill(await serve());
      const mount = await mountReplicatedDir(dir);
      assert.equal(await Deno.readTextFile(`${dir}/during`), "written through the mount\n");
      await mount.unmount();
      assert.equal(clearStaleMount(dir), false, "nothing stale is left behind");
    } finally {
      for (const child of children) {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
      }
      await new Deno.Command("umount", { args: ["-l", dir], stderr: "null" }).output();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
