import assert from "node:assert/strict";
import { join } from "node:path";
import { type ModuleMode, ModuleRegistry, StoreError, type StoreErrorCode } from "../../src/store/mod.ts";
import { withTempDir } from "./temp_store_dir.ts";

async function withRegistry(fn: (registry: ModuleRegistry, path: string) => void) {
  await withTempDir((dir) => {
    const path = join(dir, "resource.db");
    const registry = new ModuleRegistry(path);
    try {
      fn(registry, path);
    } finally {
      registry.close();
    }
  });
}

function throwsStore(fn: () => unknown, code: StoreErrorCode, message: RegExp) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof StoreError, String(e));
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
}

Deno.test("module registry: ids are the lowest free ones, gaps are reused", async () => {
  await withRegistry((registry) => {
    assert.equal(registry.nextFreeId(), 1);
    assert.equal(registry.install({ name: "mirror", mode: "mirror", at: 1 }).id, 1);
    assert.equal(registry.install({ name: "farm", mode: "farm", at: 2 }).id, 2);
    assert.equal(registry.install({ name: "far", mode: "light", id: 7, at: 3 }).id, 7);
    assert.equal(registry.nextFreeId(), 3);
    registry.uninstall("mirror", { at: 4 });
    assert.equal(registry.nextFreeId(), 1);
    assert.equal(registry.install({ name: "again", mode: "mirror", at: 5 }).id, 1);
    assert.equal(registry.install({ name: "next", mode: "farm", at: 6 }).id, 3);
    assert.deepEqual(registry.list().map((m) => `${m.id}:${m.name}`), [
      "1:again",
      "2:farm",
      "3:next",
      "7:far",
    ]);
  });
});

Deno.test("module registry: a duplicate name or id is refused with who holds it", async () => {
  await withRegistry((registry) => {
    registry.install({ name: "mirror", mode: "mirror", id: 1, at: 1 });
    throwsStore(
      () => registry.install({ name: "mirror", mode: "farm", at: 2 }),
      "duplicate-module-name",
      /cannot install module 'mirror': a module with this name is already installed \(id 1\)/,
    );
    throwsStore(
      () => registry.install({ name: "farm", mode: "farm", id: 1, at: 2 }),
      "duplicate-module-id",
      /cannot install module 'farm' with id 1: id 1 is already used by module 'mirror' \(the next free id is 2\)/,
    );
    assert.equal(registry.list().length, 1);
    assert.equal(registry.history().length, 1);
  });
});

Deno.test("module registry: bad names, modes and ids are input errors", async () => {
  await withRegistry((registry) => {
    throwsStore(
      () => registry.install({ name: "../x", mode: "mirror", at: 1 }),
      "invalid-input",
      /invalid module name "\.\.\/x"/,
    );
    throwsStore(
      () => registry.install({ name: "", mode: "mirror", at: 1 }),
      "invalid-input",
      /invalid module name ""/,
    );
    throwsStore(
      () => registry.install({ name: "m", mode: "cluster" as ModuleMode, at: 1 }),
      "invalid-input",
      /invalid module mode "cluster"/,
    );
    throwsStore(
      () => registry.install({ name: "m", mode: "farm", id: 0, at: 1 }),
      "invalid-input",
      /invalid module id 0/,
    );
    throwsStore(
      () => registry.configure("nope", { at: 1, signature: "s" }),
      "module-not-installed",
      /module 'nope' is not installed \(no module is installed\)/,
    );
  });
});

Deno.test("module registry: configure, state changes, deconfigure and uninstall are kept in order in the history", async () => {
  await withRegistry((registry) => {
    registry.install({ name: "mirror", mode: "mirror", at: 10 });
    registry.install({ name: "farm", mode: "farm", at: 11 });
    const configured = registry.configure("mirror", { at: 20, signature: "6f1032b11a7b2" });
    assert.equal(configured.configuredAt, 20);
    assert.equal(configured.signature, "6f1032b11a7b2");
    assert.deepEqual(registry.setState("mirror", "STOP NotReady", { at: 30 }), { changed: true });
    assert.deepEqual(registry.setState("mirror", "STOP NotReady", { at: 31 }), { changed: false });
    assert.deepEqual(registry.setState("mirror", "ALONE Ready", { at: 32 }), { changed: true });
    assert.equal(registry.get("mirror")?.state, "ALONE Ready");
    const deconfigured = registry.deconfigure("mirror", { at: 40 });
    assert.equal(deconfigured.configuredAt, undefined);
    assert.equal(deconfigured.signature, undefined);
    registry.uninstall("mirror", { at: 50 });
    assert.equal(registry.get("mirror"), undefined);
    assert.equal(registry.getById(1), undefined);
    assert.equal(registry.getById(2)?.name, "farm");
    assert.deepEqual(
      registry.history({ module: "mirror" }).map((e) => [e.at, e.event, e.detail, e.moduleId]),
      [
        [10, "installed", "mirror", 1],
        [20, "configured", "6f1032b11a7b2", 1],
        [30, "state", "STOP NotReady", 1],
        [32, "state", "ALONE Ready", 1],
        [40, "deconfigured", "", 1],
        [50, "uninstalled", "", 1],
      ],
    );
    assert.deepEqual(registry.history({ last: 2 }).map((e) => e.event), ["deconfigured", "uninstalled"]);
  });
});

Deno.test("module registry: modules survive reopening the file", async () => {
  await withRegistry((registry, path) => {
    registry.install({ name: "mirror", mode: "mirror", id: 4, at: 1.5 });
    registry.configure("mirror", { at: 2, signature: "abc" });
    const again = new ModuleRegistry(path);
    try {
      assert.deepEqual(again.get("mirror"), {
        name: "mirror",
        id: 4,
        mode: "mirror",
        installedAt: 1.5,
        configuredAt: 2,
        signature: "abc",
      });
    } finally {
      again.close();
    }
  });
});
