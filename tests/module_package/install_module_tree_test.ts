// installModuleTree puts a tree in place all at once: on any failure the node keeps exactly
// what it had, and a reinstall replaces the old tree without leaving it behind.

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  installModuleTree,
  ModuleTreeError,
  readSafeArchive,
  type SafeArchive,
} from "../../src/module_package/mod.ts";
import { encode, goodEntries, USERCONFIG } from "./fixtures.ts";
import { snapshotTree, writeTree } from "./tree_snapshot.ts";
import { forgeZip } from "./zip_forge.ts";

const newArchive = await readSafeArchive(
  await forgeZip([...goodEntries, { name: "web/index.html", data: encode("<html>new</html>") }]),
);

async function withOldTree(run: (modules: string, target: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "safekit_install_" });
  try {
    const modules = join(root, "modules");
    const target = join(modules, "AM");
    await writeTree(target, {
      "conf/userconfig.xml": ["<safe>old</safe>", 0o644],
      "bin/start_prim": ["#!/bin/sh\necho old\n", 0o755],
      "bin/only_in_old": ["old", 0o644],
    });
    await writeTree(join(modules, "other"), { "conf/userconfig.xml": [USERCONFIG, 0o644] });
    await run(modules, target);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** An archive whose third entry fails when the installer reaches it, as a full disk would. */
function failingMidway(): SafeArchive {
  const entries = newArchive.entries.map((e) => ({ ...e }));
  Object.defineProperty(entries[3], "bytes", {
    get() {
      throw new Error("No space left on device (os error 28)");
    },
  });
  return { entries, userconfigXml: newArchive.userconfigXml };
}

Deno.test("install: a fresh target receives the whole tree", async () => {
  await withOldTree(async (modules) => {
    const target = join(modules, "AM2");
    await installModuleTree(newArchive, target);
    const paths = (await snapshotTree(target)).map((i) => `${i.kind} ${i.path} ${i.mode.toString(8)}`);
    assert.deepEqual(paths, [
      "dir bin 755",
      "file bin/start_prim 755",
      "dir conf 755",
      "file conf/userconfig.xml 644",
      "dir web 755",
      "file web/index.html 644",
    ]);
  });
});

Deno.test("install: an existing target without reinstall is refused and left as it was", async () => {
  await withOldTree(async (modules, target) => {
    const before = await snapshotTree(modules);
    await assert.rejects(installModuleTree(newArchive, target), (error: unknown) => {
      assert.ok(error instanceof ModuleTreeError);
      assert.equal(error.code, "target_exists");
      assert.equal(
        error.message,
        `cannot install module tree into '${target}': it already exists (use -r to reinstall)`,
      );
      return true;
    });
    assert.deepEqual(await snapshotTree(modules), before);
  });
});

Deno.test("install -r: the old tree is replaced entirely and nothing is left beside it", async () => {
  await withOldTree(async (modules, target) => {
    await installModuleTree(newArchive, target, { reinstall: true });
    const fresh = join(modules, "fresh");
    await installModuleTree(newArchive, fresh);
    assert.deepEqual(await snapshotTree(target), await snapshotTree(fresh));
    const siblings = [];
    for await (const e of Deno.readDir(modules)) siblings.push(e.name);
    assert.deepEqual(siblings.sort(), ["AM", "fresh", "other"]);
  });
});

Deno.test("install -r: a failure half way through leaves the old tree and no staging directory", async () => {
  await withOldTree(async (modules, target) => {
    const before = await snapshotTree(modules);
    await assert.rejects(
      installModuleTree(failingMidway(), target, { reinstall: true }),
      (error: unknown) => {
        assert.ok(error instanceof ModuleTreeError);
        assert.equal(error.code, "install_failed");
        assert.equal(
          error.message,
          `cannot install module tree into '${target}': No space left on device (os error 28) (the node is unchanged)`,
        );
        return true;
      },
    );
    assert.deepEqual(await snapshotTree(modules), before);
  });
});

Deno.test("install: a failure half way through a fresh install leaves no target at all", async () => {
  await withOldTree(async (modules) => {
    const before = await snapshotTree(modules);
    await assert.rejects(installModuleTree(failingMidway(), join(modules, "AM2")), ModuleTreeError);
    assert.deepEqual(await snapshotTree(modules), before);
  });
});

Deno.test("install: an install interrupted between its two renames is rolled back by the next attempt", async () => {
  await withOldTree(async (modules, target) => {
    const before = await snapshotTree(target);
    // What a crash leaves: the old tree moved aside, the new one half written, no target.
    await Deno.rename(target, join(modules, ".AM.replaced"));
    await writeTree(join(modules, ".AM.installing"), { "bin/partial": ["half", 0o644] });

    await assert.rejects(installModuleTree(newArchive, target), (e: unknown) => {
      return e instanceof ModuleTreeError && e.code === "target_exists";
    });
    assert.deepEqual(await snapshotTree(target), before);
    const siblings = [];
    for await (const e of Deno.readDir(modules)) siblings.push(e.name);
    assert.deepEqual(siblings.sort(), ["AM", "other"]);
  });
});

Deno.test("install: an archive built by hand with a traversing path is refused before anything is written", async () => {
  await withOldTree(async (modules) => {
    const before = await snapshotTree(modules);
    const hostile: SafeArchive = {
      entries: [...newArchive.entries, { path: "../escaped", kind: "file", mode: 0o644, bytes: encode("x") }],
      userconfigXml: newArchive.userconfigXml,
    };
    await assert.rejects(installModuleTree(hostile, join(modules, "AM2")), (error: unknown) => {
      assert.ok(error instanceof ModuleTreeError);
      assert.equal(error.code, "bad_archive");
      return true;
    });
    assert.deepEqual(await snapshotTree(modules), before);
  });
});
