import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { openStoreDatabase } from "../../src/store/sqlite_database.ts";
import { CommandLog, ModuleLog, ModuleRegistry, ResourceStore, StoreError } from "../../src/store/mod.ts";
import { withTempDir } from "./temp_store_dir.ts";

const WRITER = new URL("./fixtures/store_writer.ts", import.meta.url).pathname;

function pragma(path: string, name: string): unknown {
  const db = new DatabaseSync(path);
  try {
    return db.prepare(`PRAGMA ${name}`).get()?.[name];
  } finally {
    db.close();
  }
}

Deno.test("sqlite: a new store file is in WAL mode, versioned, with its parent directories created", async () => {
  await withTempDir((dir) => {
    const paths = {
      log: join(dir, "modules", "mirror", "log.db"),
      resource: join(dir, "modules", "mirror", "resource.db"),
      command: join(dir, "log.db"),
      registry: join(dir, "resource.db"),
    };
    new ModuleLog(paths.log).close();
    new ResourceStore(paths.resource).close();
    new CommandLog(paths.command).close();
    new ModuleRegistry(paths.registry).close();
    for (const path of Object.values(paths)) {
      assert.equal(pragma(path, "journal_mode"), "wal", path);
      assert.equal(pragma(path, "user_version"), 1, path);
    }
  });
});

Deno.test("sqlite: connections use busy_timeout 10000 and synchronous NORMAL", async () => {
  await withTempDir((dir) => {
    const db = openStoreDatabase(join(dir, "x.db"), {
      name: "test",
      migrations: ["CREATE TABLE t (id INTEGER)"],
    });
    try {
      assert.equal(db.prepare("PRAGMA busy_timeout").get()?.timeout, 10_000);
      assert.equal(db.prepare("PRAGMA synchronous").get()?.synchronous, 1);
    } finally {
      db.close();
    }
  });
});

Deno.test("sqlite: migrations run once each, in order, up to the latest version", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "x.db");
    const v1 = { name: "test", migrations: ["CREATE TABLE t (a INTEGER)"] };
    const v2 = { name: "test", migrations: [...v1.migrations, "ALTER TABLE t ADD COLUMN b TEXT"] };
    openStoreDatabase(path, v1).close();
    openStoreDatabase(path, v2).close();
    const db = openStoreDatabase(path, v2);
    try {
      assert.deepEqual(db.prepare("SELECT name FROM pragma_table_info('t')").all().map((r) => r.name), [
        "a",
        "b",
      ]);
      assert.equal(db.prepare("PRAGMA user_version").get()?.user_version, 2);
    } finally {
      db.close();
    }
  });
});

Deno.test("sqlite: a file from a newer schema version is refused, not modified", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "log.db");
    new ModuleLog(path).close();
    const raw = new DatabaseSync(path);
    raw.exec("PRAGMA user_version = 7");
    raw.close();
    assert.throws(() => new ModuleLog(path), (e) => {
      assert.ok(e instanceof StoreError);
      assert.equal(e.code, "schema-too-new");
      assert.match(e.message, /module log .*log\.db: schema version 7 .* knows versions up to 1/);
      return true;
    });
    assert.equal(pragma(path, "user_version"), 7);
  });
});

Deno.test("sqlite: several processes creating the same new stores at the same moment all succeed", async () => {
  await withTempDir(async (dir) => {
    const startAt = Date.now() + 1500; // after every child has loaded its code
    const children = Array.from({ length: 4 }, () =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--no-check", WRITER, "create", dir, String(startAt)],
        stdout: "piped",
        stderr: "piped",
      }).output());
    for (const out of await Promise.all(children)) {
      const decoder = new TextDecoder();
      assert.equal(out.code, 0, decoder.decode(out.stderr));
      assert.equal(decoder.decode(out.stdout).trim(), "ok");
    }
    const log = new ModuleLog(join(dir, "log.db"));
    const resources = new ResourceStore(join(dir, "resource.db"));
    try {
      assert.equal(log.count(), 4);
      assert.equal(resources.list().length, 4);
    } finally {
      log.close();
      resources.close();
    }
    assert.equal(pragma(join(dir, "registry.db"), "journal_mode"), "wal");
  });
});

Deno.test("sqlite: another process and this one writing the same stores at once lose nothing", async () => {
  await withTempDir(async (dir) => {
    const n = 1500;
    const log = new ModuleLog(join(dir, "log.db"));
    const resources = new ResourceStore(join(dir, "resource.db"));
    try {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--no-check", WRITER, "burst", dir, String(n)],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const output = child.output();
      for (let i = 0; i < n; i++) {
        log.append({ at: Date.now(), component: "parent", level: "I", message: `${i}` });
        resources.set("custom.shared", `parent-${i}`, { at: Date.now(), by: "parent" });
        if (i % 100 === 0) await new Promise((r) => setTimeout(r, 1)); // let the child interleave
      }
      const out = await output;
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      const rows = log.query({ verbose: true, last: 10 * n });
      assert.equal(rows.length, 2 * n);
      assert.equal(new Set(rows.map((r) => r.id)).size, 2 * n);
      for (const who of ["parent", "child"]) {
        const messages = rows.filter((r) => r.component === who).map((r) => r.message);
        assert.deepEqual(messages, Array.from({ length: n }, (_, i) => `${i}`), `${who} rows in order`);
      }
      assert.equal(resources.history("custom.shared", 10 * n).length, 2 * n);
      const db = new DatabaseSync(join(dir, "log.db"));
      try {
        assert.equal(db.prepare("PRAGMA integrity_check").get()?.integrity_check, "ok");
      } finally {
        db.close();
      }
    } finally {
      log.close();
      resources.close();
    }
  });
});
