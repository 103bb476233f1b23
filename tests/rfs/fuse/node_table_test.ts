import assert from "node:assert/strict";
import { NodeTable, ROOT_ID } from "../../../src/rfs/fuse/node_table.ts";

Deno.test("node table: paths follow a directory rename without touching the children", () => {
  const t = new NodeTable();
  const d = t.remember(ROOT_ID, "d");
  const f = t.remember(d, "f");
  assert.equal(t.pathOf(ROOT_ID), ".");
  assert.equal(t.pathOf(f), "d/f");
  t.rename(ROOT_ID, "d", ROOT_ID, "e", false);
  assert.equal(t.pathOf(f), "e/f");
  assert.equal(t.remember(ROOT_ID, "e"), d, "the renamed node keeps its id under the new name");
});

Deno.test("node table: a removed or replaced name leaves its node without a path", () => {
  const t = new NodeTable();
  const a = t.remember(ROOT_ID, "a");
  const b = t.remember(ROOT_ID, "b");
  t.rename(ROOT_ID, "a", ROOT_ID, "b", false);
  assert.equal(t.pathOf(a), "b");
  assert.equal(t.pathOf(b), null, "the old target was replaced");
  t.detach(ROOT_ID, "b");
  assert.equal(t.pathOf(a), null);
  assert.notEqual(t.remember(ROOT_ID, "b"), a, "a new file under the same name is a new node");
});

Deno.test("node table: exchange swaps two names", () => {
  const t = new NodeTable();
  const a = t.remember(ROOT_ID, "a"), b = t.remember(ROOT_ID, "b");
  t.rename(ROOT_ID, "a", ROOT_ID, "b", true);
  assert.equal(t.pathOf(a), "b");
  assert.equal(t.pathOf(b), "a");
});

Deno.test("node table: a node lives until the kernel forgot every lookup", () => {
  const t = new NodeTable();
  const a = t.remember(ROOT_ID, "a");
  t.remember(ROOT_ID, "a");
  t.forget(a, 1);
  assert.equal(t.pathOf(a), "a");
  t.forget(a, 1);
  assert.equal(t.has(a), false);
  t.forget(ROOT_ID, 5);
  assert.equal(t.pathOf(ROOT_ID), ".", "the root is never forgotten");
});
