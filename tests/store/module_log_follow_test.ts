import assert from "node:assert/strict";
import { join } from "node:path";
import { followModuleLog, ModuleLog, type ModuleLogRow } from "../../src/store/mod.ts";
import { withTempDir } from "./temp_store_dir.ts";

Deno.test("log follow: yields only new rows of the chosen levels, in order, written by another handle", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "log.db");
    const writer = new ModuleLog(path);
    const reader = new ModuleLog(path);
    const controller = new AbortController();
    try {
      writer.append({ at: 1, component: "heart", level: "E", message: "before the follow started" });
      const seen: ModuleLogRow[] = [];
      const following = (async () => {
        for await (
          const row of followModuleLog(reader, {
            verbose: false,
            levels: ["E"],
            intervalMs: 10,
            signal: controller.signal,
          })
        ) {
          seen.push(row);
          if (seen.length === 3) controller.abort();
        }
      })();
      await new Promise((r) => setTimeout(r, 30));
      for (let i = 0; i < 5; i++) {
        writer.append({ at: 2, component: "heart", level: i % 2 === 0 ? "E" : "D", message: `new ${i}` });
      }
      await following;
      assert.deepEqual(seen.map((r) => r.message), ["new 0", "new 2", "new 4"]);
    } finally {
      controller.abort();
      writer.close();
      reader.close();
    }
  });
});

Deno.test("log follow: reads a backlog larger than one batch without skipping rows", async () => {
  await withTempDir(async (dir) => {
    const log = new ModuleLog(join(dir, "log.db"));
    const controller = new AbortController();
    try {
      for (let i = 0; i < 25; i++) log.append({ at: 1, component: "c", level: "I", message: `${i}` });
      const seen: string[] = [];
      for await (
        const row of followModuleLog(log, {
          verbose: true,
          afterId: 0,
          batch: 7,
          intervalMs: 5,
          signal: controller.signal,
        })
      ) {
        seen.push(row.message);
        if (seen.length === 25) controller.abort();
      }
      assert.deepEqual(seen, Array.from({ length: 25 }, (_, i) => `${i}`));
    } finally {
      log.close();
    }
  });
});

Deno.test("log follow: aborting while it waits ends the iteration promptly", async () => {
  await withTempDir(async (dir) => {
    const log = new ModuleLog(join(dir, "log.db"));
    try {
      const controller = new AbortController();
      const started = Date.now();
      setTimeout(() => controller.abort(), 20);
      for await (
        const _ of followModuleLog(log, { verbose: true, intervalMs: 60_000, signal: controller.signal })
      ) {
        assert.fail("no row was written");
      }
      assert.ok(Date.now() - started < 5_000);
    } finally {
      log.close();
    }
  });
});
