// What the secondary does with a live op during reintegration, depending on what it already copied.
import assert from "node:assert/strict";
import { TreeSyncState } from "../../src/rfs/reintegration_state.ts";
import type { TreeOp } from "../../src/rfs/tree_op.ts";

const write = (path: string): TreeOp => ({ kind: "write", path, offset: 0, data: new Uint8Array(1) });
const create = (path: string): TreeOp => ({
  kind: "create",
  path,
  mode: 0o644,
  uid: 0,
  gid: 0,
  exclusive: true,
  truncate: false,
});
const rename = (from: string, to: string): TreeOp => ({ kind: "rename", from, to, flags: 0 });

/** Root listed with children: dir "d" (synced, not listed yet), file "f" (equal), file "c" (being copied). */
function listedRoot(): TreeSyncState {
  const s = new TreeSyncState();
  s.setDirPendingList(".");
  s.markListed(".");
  s.setDirPendingList("d");
  s.setSynced("f");
  s.setCopying("c");
  return s;
}

Deno.test("reintegration state: before the root is read every op is dropped and nothing is marked", () => {
  const s = new TreeSyncState();
  assert.equal(s.decide(write("f")), "drop");
  assert.deepEqual(s.dirtyAfter(write("f")), []);
  assert.equal(s.isComplete(), false);
});

const table: { name: string; op: TreeOp; decision: string; dirty?: string[] }[] = [
  { name: "a write to an equal file is applied", op: write("f"), decision: "apply" },
  { name: "a new name in a listed directory is applied", op: create("new"), decision: "apply" },
  { name: "a write to a file being copied is applied best effort", op: write("c"), decision: "bestEffort" },
  {
    name: "an op below a directory not listed yet is dropped: its listing shows it",
    op: create("d/x"),
    decision: "drop",
    dirty: [],
  },
  {
    name: "a rename out of an unlisted directory re-reads the new name",
    op: rename("d/x", "moved"),
    decision: "drop",
    dirty: ["moved"],
  },
  {
    name: "a rename of a file being copied re-reads both names",
    op: rename("c", "c2"),
    decision: "drop",
    dirty: ["c", "c2"],
  },
  {
    name: "a rename of a directory with pending work re-reads both names",
    op: rename("d", "e"),
    decision: "drop",
    dirty: ["d", "e"],
  },
  { name: "a rename of an equal file is applied", op: rename("f", "g"), decision: "apply" },
];

for (const t of table) {
  Deno.test(`reintegration state: ${t.name}`, () => {
    const s = listedRoot();
    assert.equal(s.decide(t.op), t.decision);
    if (t.dirty) assert.deepEqual(s.dirtyAfter(t.op), t.dirty);
  });
}

Deno.test("reintegration state: a rename moves what is known of the name; the old name is absent on both sides", () => {
  const s = listedRoot();
  s.afterApply(rename("f", "g"));
  assert.equal(s.isSynced("g"), true);
  assert.equal(s.isSynced("f"), true);
  s.afterApply({ kind: "mkdir", path: "n", mode: 0o755, uid: 0, gid: 0 });
  assert.equal(s.decide(create("n/child")), "apply"); // a new directory is empty on both sides: listed
});

Deno.test("reintegration state: unlinking a file being copied settles it; completion needs every listing and copy", () => {
  const s = listedRoot();
  assert.equal(s.isComplete(), false);
  s.afterBestEffort({ kind: "unlink", path: "c" });
  assert.equal(s.statusOf("c"), "synced");
  assert.equal(s.isComplete(), false); // "d" is not listed yet
  s.markListed("d");
  assert.equal(s.isComplete(), true);
  assert.equal(s.markDirty("f"), true);
  assert.equal(s.markDirty("f"), false); // already queued for a re-read
  assert.equal(s.isComplete(), false);
});
