// rfsverify's pieces: the checksum listing of a real directory (filtered, symlinks, modes), the comparison of
// two listings, and the re-check that tells a write in flight from a real divergence.
import assert from "node:assert/strict";
import { join } from "node:path";
import { REPLICATE_ALL, replicationFilter } from "../../../src/rfs/replication_filter.ts";
import { type DigestEntry, digestTree, isSafeRelative } from "../../../src/rfs/verify/tree_digest.ts";
import { compareDigests, describeDifference } from "../../../src/rfs/verify/compare_digests.ts";
import { verifyDir } from "../../../src/rfs/verify/verify_dir.ts";

async function tree(): Promise<string> {
  const d = await Deno.makeTempDir({ prefix: "rfsverify-" });
  await Deno.mkdir(join(d, "a/b"), { recursive: true });
  await Deno.writeTextFile(join(d, "a/b/f.txt"), "hello");
  await Deno.writeTextFile(join(d, "big"), "x".repeat(3 << 20));
  await Deno.symlink("a/b/f.txt", join(d, "link"));
  await Deno.mkdir(join(d, "cache"));
  await Deno.writeTextFile(join(d, "cache/tmp"), "scratch");
  await Deno.chmod(join(d, "a/b/f.txt"), 0o640);
  return d;
}

Deno.test("digestTree lists every entry sorted, with checksums, link targets and modes; filters apply", async () => {
  const d = await tree();
  try {
    const all = await digestTree(d, { filter: REPLICATE_ALL });
    assert.deepEqual(all.map((e) => e.path), ["a", "a/b", "a/b/f.txt", "big", "cache", "cache/tmp", "link"]);
    const f = all.find((e) => e.path === "a/b/f.txt")!;
    assert.equal(f.kind, "file");
    assert.equal(f.mode, 0o640);
    assert.equal(f.sha256, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    assert.equal(all.find((e) => e.path === "big")!.size, 3 << 20);
    assert.equal(all.find((e) => e.path === "link")!.target, "a/b/f.txt");
    const filtered = await digestTree(d, {
      filter: replicationFilter({ notReplicatedPaths: ["cache"], notReplicatedRegexps: [] }),
    });
    assert.ok(!filtered.some((e) => e.path.startsWith("cache")));
    const some = await digestTree(d, { filter: REPLICATE_ALL, only: ["link", "gone", "a/b/f.txt"] });
    assert.deepEqual(some.map((e) => e.path), ["a/b/f.txt", "link"]);
    await assert.rejects(
      digestTree(d, { filter: REPLICATE_ALL, only: ["../etc/passwd"] }),
      /not a path inside/,
    );
    await assert.rejects(digestTree(d, { filter: REPLICATE_ALL, maxEntries: 3 }), /too large/);
  } finally {
    await Deno.remove(d, { recursive: true });
  }
});

Deno.test("isSafeRelative refuses absolute paths, '..', '.', empty components and NUL", () => {
  for (const bad of ["", "/a", "a/../b", "..", "./a", "a//b", "a/", "a\0b"]) {
    assert.equal(isSafeRelative(bad), false, bad);
  }
  for (const good of ["a", "a/b", "a b/c.d", "...x"]) assert.equal(isSafeRelative(good), true, good);
});

const e = (path: string, o: Partial<DigestEntry> = {}): DigestEntry => ({
  path,
  kind: "file",
  mode: 0o644,
  uid: 0,
  gid: 0,
  size: 1,
  mtimeMs: 0,
  sha256: "aa",
  ...o,
});

Deno.test("compareDigests names each kind of difference and ignores times", () => {
  const p = [
    e("same", { mtimeMs: 1 }),
    e("content", { sha256: "bb" }),
    e("size", { size: 2, sha256: "cc" }),
    e("mode", { mode: 0o600 }),
    e("owner", { uid: 1 }),
    e("onlyprim"),
    e("type"),
    e("l", { kind: "symlink", target: "x", mode: 0o777 }),
  ];
  const s = [
    e("same", { mtimeMs: 2 }),
    e("content"),
    e("size"),
    e("mode"),
    e("owner"),
    e("onlysecond"),
    e("type", { kind: "dir" }),
    e("l", { kind: "symlink", target: "y", mode: 0o755 }),
  ];
  const d = compareDigests(p, s);
  assert.deepEqual(
    d.map((x) => [x.path, x.kinds.join("+")]),
    [
      ["content", "content"],
      ["l", "symlink target"],
      ["mode", "mode"],
      ["onlyprim", "missing on secondary"],
      ["onlysecond", "missing on primary"],
      ["owner", "owner"],
      ["size", "size+content"],
      ["type", "type"],
    ],
  );
  assert.equal(describeDifference(d[2]), "mode: mode 600 vs 644");
  assert.deepEqual(compareDigests(p, p), []);
});

Deno.test("verifyDir reports a write in flight apart from a difference that persists", async () => {
  let round = 0;
  const primary = (paths?: readonly string[]) => {
    const all = [e("moving", { sha256: "new" }), e("broken", { sha256: "p" }), e("ok")];
    return Promise.resolve(paths ? all.filter((x) => paths.includes(x.path)) : all);
  };
  const secondary = (paths?: readonly string[]) => {
    // "moving" arrives on the secondary before the first re-check; "broken" never agrees.
    const all = [
      e("moving", { sha256: round++ === 0 ? "old" : "new" }),
      e("broken", { sha256: "s" }),
      e("ok"),
    ];
    return Promise.resolve(paths ? all.filter((x) => paths.includes(x.path)) : all);
  };
  const r = await verifyDir(primary, secondary, { rechecks: 3, delayMs: 0 });
  assert.equal(r.entries, 3);
  assert.deepEqual(r.differences.map((x) => x.path), ["broken"]);
  assert.deepEqual(r.inFlight, ["moving"]);
});
