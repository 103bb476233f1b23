import assert from "node:assert/strict";
import { join } from "node:path";
import { CommandLog, formatCommandLogLine, StoreError } from "../../src/store/mod.ts";
import { withTempDir } from "./temp_store_dir.ts";

/** 2021-07-27 hh:mm:ss.micro (UTC) as fractional epoch ms. */
function at(time: string): number {
  const [hms, micros] = time.split(".");
  const [h, m, s] = hms.split(":").map(Number);
  return Date.UTC(2021, 6, 27, h, m, s) + Number(micros) / 1000;
}

async function withLog(fn: (log: CommandLog) => void, limits = {}) {
  await withTempDir((dir) => {
    const log = new CommandLog(join(dir, "log.db"), limits);
    try {
      fn(log);
    } finally {
      log.close();
    }
  });
}

Deno.test("command log: reproduces the raw lines of spec §10.3 exactly", async () => {
  await withLog((log) => {
    const config = log.start({
      at: at("14:37:33.205122"),
      action: "safekit",
      module: "mirror",
      pid: 6883,
      args: "config -m mirror",
    });
    log.info({
      at: at("14:37:33.400513"),
      action: "cluster",
      module: "mirror",
      message: "update cluster state",
    });
    log.info({
      at: at("14:37:33.405597"),
      action: "cluster",
      module: "mirror",
      pid: 0,
      message: "module state change on node centos7-test3",
    });
    log.end(config, { at: at("14:37:34.193280"), code: 0 });
    const prim = log.start({
      at: at("14:38:05.092924"),
      action: "safekit",
      module: "mirror",
      pid: 7017,
      args: "prim -m mirror",
      user: "admin",
      address: "10.0.0.103",
    });
    log.end(prim, { at: at("14:38:05.109368"), code: 0 });
    assert.deepEqual(log.list().map((row) => formatCommandLogLine(row, "utc")), [
      "| 2021-07-27 14:37:33.205122 | safekit | mirror | 6883 | START | config -m mirror",
      "| 2021-07-27 14:37:33.400513 | cluster | mirror | 0 | I | update cluster state",
      "| 2021-07-27 14:37:33.405597 | cluster | mirror | 0 | I | module state change on node centos7-test3",
      "| 2021-07-27 14:37:34.193280 | | | 6883 | END | 0",
      "| 2021-07-27 14:38:05.092924 | safekit | mirror | 7017 | START | prim -m mirror -u admin@10.0.0.103",
      "| 2021-07-27 14:38:05.109368 | | | 7017 | END | 0",
    ]);
  });
});

Deno.test("command log: rows keep their structure (START args and user, END code and start id)", async () => {
  await withLog((log) => {
    const id = log.start({ at: 1, action: "safekit", pid: 42, args: "stop -m farm", user: "root" });
    const endId = log.end(id, { at: 2, code: 3 });
    assert.deepEqual(log.list(), [
      {
        kind: "START",
        id,
        at: 1,
        action: "safekit",
        module: "",
        pid: 42,
        args: "stop -m farm",
        user: "root",
      },
      { kind: "END", id: endId, at: 2, pid: 42, code: 3, startId: id },
    ]);
    assert.equal(
      formatCommandLogLine(log.list()[0], "utc"),
      "| 1970-01-01 00:00:00.001000 | safekit | | 42 | START | stop -m farm -u root",
    );
  });
});

Deno.test("command log: endByPid closes the latest command of that process", async () => {
  await withLog((log) => {
    log.start({ at: 1, action: "safekit", pid: 9, args: "start -m a" });
    const second = log.start({ at: 2, action: "safekit", pid: 9, args: "start -m b" });
    log.endByPid(9, { at: 3, code: 1 });
    const end = log.list().at(-1)!;
    assert.equal(end.kind, "END");
    assert.equal(end.kind === "END" && end.startId, second);
    log.endByPid(77, { at: 4, code: 0 });
    const orphan = log.list().at(-1)!;
    assert.deepEqual(orphan.kind === "END" && [orphan.pid, orphan.startId], [77, undefined]);
  });
});

Deno.test("command log: ending an unknown command or with a non-integer code is an error", async () => {
  await withLog((log) => {
    assert.throws(() => log.end(12345, { at: 1, code: 0 }), (e) => {
      assert.ok(e instanceof StoreError);
      assert.equal(e.code, "unknown-command");
      assert.match(e.message, /no command started with id 12345/);
      return true;
    });
    const info = log.info({ at: 1, action: "cluster", message: "x" });
    assert.throws(() => log.end(info, { at: 1, code: 0 }), /no command started with id/);
    const id = log.start({ at: 1, action: "safekit", pid: 5, args: "x" });
    assert.throws(() => log.end(id, { at: 1, code: 1.5 }), /exit code must be an integer, found 1\.5/);
    assert.throws(
      () => log.start({ at: 1, action: "safekit", pid: 0, args: "x" }),
      /pid must be an integer >= 1/,
    );
    assert.throws(
      () => log.start({ at: 1, action: "safe|kit", pid: 5, args: "x" }),
      /command action: character "\|"/,
    );
  });
});

Deno.test("command log: list returns the newest rows, oldest first, and after sinceId", async () => {
  await withLog((log) => {
    const ids = Array.from({ length: 10 }, (_, i) => log.info({ at: i, action: "cluster", message: `${i}` }));
    assert.deepEqual(log.list({ last: 3 }).map((r) => r.id), ids.slice(-3));
    assert.deepEqual(log.list({ sinceId: ids[7] }).map((r) => r.id), ids.slice(8));
  });
});

Deno.test("command log: pruning bounds the number of rows", async () => {
  await withLog((log) => {
    for (let i = 0; i < 1000; i++) {
      const id = log.start({ at: i, action: "safekit", pid: 100 + i, args: "state" });
      log.end(id, { at: i, code: 0 });
      assert.ok(log.count() <= 120 + 12 - 1);
    }
    assert.equal(log.list({ last: 1000 }).at(-1)?.kind, "END");
  }, { maxRows: 120 });
});
