import assert from "node:assert/strict";
import { join } from "node:path";
import { formatLogLine, type LogLevel, ModuleLog, StoreError } from "../../src/store/mod.ts";
import { withTempDir } from "./temp_store_dir.ts";

const T0 = Date.UTC(2021, 7, 6, 8, 40, 20);

function fill(log: ModuleLog, levels: LogLevel[]): number[] {
  return levels.map((level, i) =>
    log.append({ at: T0 + i, component: "heart", level, message: `m${i} ${level}` })
  );
}

Deno.test("module log: non-verbose view keeps U, E, C, S; verbose adds I and D", async () => {
  await withTempDir((dir) => {
    const log = new ModuleLog(join(dir, "modules", "mirror", "log.db"));
    try {
      fill(log, ["U", "E", "I", "C", "D", "S", "I"]);
      assert.deepEqual(log.query({ verbose: false }).map((r) => r.level), ["U", "E", "C", "S"]);
      assert.deepEqual(log.query({ verbose: true }).map((r) => r.level), ["U", "E", "I", "C", "D", "S", "I"]);
      assert.deepEqual(log.query({ verbose: false, levels: ["E", "I"] }).map((r) => r.level), [
        "E",
        "I",
        "I",
      ]);
    } finally {
      log.close();
    }
  });
});

Deno.test("module log: 'last' returns the newest rows, oldest first, default 300", async () => {
  await withTempDir((dir) => {
    const log = new ModuleLog(join(dir, "log.db"));
    try {
      const ids = fill(log, Array.from({ length: 310 }, () => "E" as const));
      assert.deepEqual(log.query({ verbose: false, last: 3 }).map((r) => r.id), ids.slice(-3));
      const all = log.query({ verbose: false });
      assert.equal(all.length, 300);
      assert.equal(all[0].id, ids[10]);
      assert.equal(all.at(-1)!.id, ids.at(-1));
    } finally {
      log.close();
    }
  });
});

Deno.test("module log: sinceId and search narrow the rows; search ignores ASCII case", async () => {
  await withTempDir((dir) => {
    const log = new ModuleLog(join(dir, "log.db"));
    try {
      const a = log.append({
        at: T0,
        component: "pingcheck",
        level: "I",
        message: "Resource ping.r set to up by pingcheck",
      });
      const b = log.append({ at: T0, component: "heart", level: "E", message: "Local state ALONE Ready" });
      const c = log.append({ at: T0, component: "errd", level: "C", message: "Process appli not running" });
      assert.deepEqual(log.query({ verbose: true, sinceId: a }).map((r) => r.id), [b, c]);
      assert.deepEqual(log.query({ verbose: true, search: "local STATE" }).map((r) => r.id), [b]);
      assert.deepEqual(log.query({ verbose: true, search: "ERRD" }).map((r) => r.id), [c]);
      assert.deepEqual(log.query({ verbose: false, search: "pingcheck" }), []);
      // LIKE wildcards are plain characters here.
      assert.deepEqual(log.query({ verbose: true, search: "%" }), []);
    } finally {
      log.close();
    }
  });
});

Deno.test("module log: rows come back as written, with microseconds", async () => {
  await withTempDir((dir) => {
    const log = new ModuleLog(join(dir, "log.db"));
    try {
      const entry = {
        at: T0 + 909.224,
        component: "reintegre",
        level: "E" as const,
        message: "é ünïcode\nline 2",
      };
      const id = log.append(entry);
      const [row] = log.query({ verbose: true });
      assert.equal(row.id, id);
      assert.equal(row.component, entry.component);
      assert.equal(row.message, entry.message);
      assert.equal(Math.round(row.at * 1000), Math.round(entry.at * 1000));
    } finally {
      log.close();
    }
  });
});

Deno.test("module log: raw line format of spec §10.1", () => {
  const row = {
    at: T0 + 909.224,
    component: "reintegre",
    level: "E" as const,
    message: "Automatic synchronization cannot be applied",
  };
  assert.equal(
    formatLogLine(row, "utc"),
    "| 2021-08-06 08:40:20.909224 | reintegre | E | Automatic synchronization cannot be applied",
  );
  assert.equal(
    formatLogLine({ ...row, component: "", level: "D", message: "x" }, { offsetMinutes: 60 }),
    "| 2021-08-06 09:40:20.909224 | | D | x",
  );
});

Deno.test("module log: invalid entries are rejected with the field and the reason", async () => {
  await withTempDir((dir) => {
    const log = new ModuleLog(join(dir, "log.db"));
    try {
      const bad = (entry: object, pattern: RegExp) =>
        assert.throws(
          () => log.append({ at: T0, component: "heart", level: "E", message: "m", ...entry }),
          (e) => {
            assert.ok(e instanceof StoreError);
            assert.equal(e.code, "invalid-input");
            assert.match(e.message, pattern);
            return true;
          },
        );
      bad({ level: "X" }, /log level: invalid value "X" \(expected one of U, E, C, S, I, D\)/);
      bad({ component: "a|b" }, /log component: character "\|" at position 2/);
      bad({ at: Number.NaN }, /at: invalid time NaN/);
      bad({ message: "x".repeat(16_385) }, /log message: too long \(16385 characters, at most 16384\)/);
      assert.equal(log.count(), 0);
    } finally {
      log.close();
    }
  });
});

Deno.test("module log: pruning keeps the newest maxRows rows, checked every pruneEvery appends", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "log.db");
    const log = new ModuleLog(path, { maxRows: 50, pruneEvery: 10 });
    let ids: number[] = [];
    try {
      for (let i = 0; i < 237; i++) {
        ids.push(log.append({ at: T0, component: "c", level: "D", message: `${i}` }));
        assert.ok(log.count() <= 50 + 10 - 1, `count ${log.count()} after ${i + 1} appends`);
      }
      // 230 appends triggered the last prune, 7 more since.
      assert.equal(log.count(), 57);
      ids = ids.slice(-57);
      assert.deepEqual(log.query({ verbose: true, last: 1000 }).map((r) => r.id), ids);
    } finally {
      log.close();
    }
    // Opening with a lower limit prunes at once.
    const smaller = new ModuleLog(path, { maxRows: 5 });
    try {
      assert.deepEqual(smaller.query({ verbose: true }).map((r) => r.id), ids.slice(-5));
    } finally {
      smaller.close();
    }
  });
});

Deno.test("module log: ids keep growing after pruning and after reopening", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "log.db");
    const first = new ModuleLog(path, { maxRows: 1, pruneEvery: 1 });
    const a = first.append({ at: T0, component: "c", level: "E", message: "a" });
    const b = first.append({ at: T0, component: "c", level: "E", message: "b" });
    first.close();
    const second = new ModuleLog(path, { maxRows: 1, pruneEvery: 1 });
    try {
      const c = second.append({ at: T0, component: "c", level: "E", message: "c" });
      assert.ok(a < b && b < c);
      assert.equal(second.lastId(), c);
    } finally {
      second.close();
    }
  });
});
