// packageModuleDir -> readSafeArchive -> installModuleTree gives back the same tree: same
// paths, bytes and modes (an executable script stays executable).

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  installModuleTree,
  ModuleTreeError,
  packageModuleDir,
  readSafeArchive,
} from "../../src/module_package/mod.ts";
import { START_PRIM, USERCONFIG } from "./fixtures.ts";
import { snapshotTree, writeTree } from "./tree_snapshot.ts";

const keyBytes = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7919) % 256);

async function makeModuleTree(dir: string): Promise<void> {
  await writeTree(dir, {
    "conf/userconfig.xml": [USERCONFIG, 0o644],
    "conf/modulekey.p12": [keyBytes, 0o600],
    "bin/start_prim": [START_PRIM, 0o755],
    "bin/stop_prim": ["#!/bin/sh\necho stopping\n", 0o750],
    "web/index.html": ["<html></html>\n", 0o644],
  });
  await Deno.mkdir(join(dir, "web", "empty"), { recursive: true });
  await Deno.chmod(join(dir, "web", "empty"), 0o755);
}

async function withTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "safekit_package_" });
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("package round trip: the installed tree has the same files, bytes and modes as the source", async () => {
  await withTempDir(async (dir) => {
    const source = join(dir, "SAFE", "modules", "AM");
    await makeModuleTree(source);
    const archive = await readSafeArchive(await packageModuleDir(source), { name: "AM.safe" });
    assert.equal(archive.userconfigXml, USERCONFIG);
    const start = archive.entries.find((e) => e.path === "bin/start_prim");
    assert.equal(start?.mode, 0o755);
    assert.deepEqual(start?.bytes, new TextEncoder().encode(START_PRIM));

    const target = join(dir, "node2", "SAFE", "modules", "AM");
    await installModuleTree(archive, target);
    assert.deepEqual(await snapshotTree(target), await snapshotTree(source));
    assert.equal((await Deno.stat(join(target, "bin", "start_prim"))).mode! & 0o777, 0o755);
    const run = await new Deno.Command(join(target, "bin", "start_prim")).output();
    assert.equal(new TextDecoder().decode(run.stdout), "starting\n");
  });
});

Deno.test("package determinism: the same tree packaged twice, or copied elsewhere later, gives the same bytes", async () => {
  await withTempDir(async (dir) => {
    const first = join(dir, "a", "AM");
    await makeModuleTree(first);
    const once = await packageModuleDir(first);
    const twice = await packageModuleDir(first);
    assert.deepEqual(twice, once);

    // Other inode order, other timestamps: still the same archive.
    const second = join(dir, "b", "AM");
    await Deno.mkdir(join(second, "web", "empty"), { recursive: true });
    await makeModuleTree(second);
    await Deno.utime(join(second, "bin", "start_prim"), 1_000_000, 1_000_000);
    assert.deepEqual(await packageModuleDir(second), once);
  });
});

Deno.test("package: a symbolic link inside the module tree is refused with the link's path", async () => {
  await withTempDir(async (dir) => {
    const source = join(dir, "AM");
    await makeModuleTree(source);
    await Deno.symlink("/etc/passwd", join(source, "bin", "passwd"));
    await assert.rejects(packageModuleDir(source), (error: unknown) => {
      assert.ok(error instanceof ModuleTreeError);
      assert.equal(error.code, "symlink");
      assert.equal(
        error.message,
        `cannot package module tree '${source}': 'bin/passwd' is a symbolic link (a module holds only ` +
          `regular files and directories; copy the file in instead)`,
      );
      return true;
    });
  });
});

Deno.test("package: a tree without conf/userconfig.xml is refused", async () => {
  await withTempDir(async (dir) => {
    const source = join(dir, "AM");
    await writeTree(source, { "bin/start_prim": [START_PRIM, 0o755] });
    await assert.rejects(packageModuleDir(source), (error: unknown) => {
      assert.ok(error instanceof ModuleTreeError);
      assert.equal(error.code, "missing_userconfig");
      return true;
    });
  });
});
