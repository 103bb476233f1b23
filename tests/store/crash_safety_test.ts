// A writer process killed with SIGKILL in the middle of its commits must leave databases that open
// cleanly, pass integrity_check, and hold every row it reported as committed.
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { ModuleLog } from "../../src/store/mod.ts";
import { withTempDir } from "./temp_store_dir.ts";

const WRITER = new URL("./fixtures/store_writer.ts", import.meta.url).pathname;
const ROUNDS = 4;

type Reported = { logIds: Set<number>; resourceValues: Set<string>; commandIds: Set<number> };

/** Kills the writer once it has reported `killAfterRows` log rows: it is then in the middle of some later
 * commit, at a point that varies with scheduling. Counting rows rather than waiting a fixed time keeps
 * the test meaningful on a loaded machine, where a checkpoint's fsync can stall the writer. */
async function runAndKill(dir: string, killAfterRows: number): Promise<Reported> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", WRITER, "crash", dir],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reported: Reported = { logIds: new Set(), resourceValues: new Set(), commandIds: new Set() };
  const decoder = new TextDecoder();
  let pending = "";
  let killed = false;
  for await (const chunk of child.stdout) {
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop()!; // a line cut by the kill is not a report
    for (const line of lines) {
      const [tag, value] = line.split(" ");
      if (tag === "L") reported.logIds.add(Number(value));
      else if (tag === "R") reported.resourceValues.add(value);
      else if (tag === "C") reported.commandIds.add(Number(value));
    }
    if (reported.logIds.size >= killAfterRows && !killed) {
      child.kill("SIGKILL");
      killed = true;
    }
  }
  const status = await child.status;
  assert.equal(status.signal, "SIGKILL", "the writer must have been killed, not have stopped on its own");
  return reported;
}

function column(path: string, sql: string): unknown[] {
  const db = new DatabaseSync(path);
  try {
    assert.equal(db.prepare("PRAGMA integrity_check").get()?.integrity_check, "ok", path);
    return db.prepare(sql).all().map((row) => Object.values(row)[0]);
  } finally {
    db.close();
  }
}

Deno.test("crash safety: SIGKILL during writes loses no reported commit and never corrupts a store", async () => {
  await withTempDir(async (dir) => {
    let lastLogId = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const reported = await runAndKill(dir, 50 + Math.floor(Math.random() * 400));

      const logIds = new Set(column(join(dir, "log.db"), "SELECT id FROM log").map(Number));
      for (const id of reported.logIds) assert.ok(logIds.has(id), `round ${round}: log row ${id} lost`);
      const values = new Set(
        column(join(dir, "resource.db"), "SELECT value FROM resource_history").map(String),
      );
      for (const v of reported.resourceValues) {
        assert.ok(values.has(v), `round ${round}: assignment ${v} lost`);
      }
      const commandIds = new Set(column(join(dir, "cmd.db"), "SELECT id FROM command").map(Number));
      for (const id of reported.commandIds) {
        assert.ok(commandIds.has(id), `round ${round}: command ${id} lost`);
      }

      // The store itself reopens the file and carries on with greater ids.
      const log = new ModuleLog(join(dir, "log.db"));
      try {
        const id = log.append({
          at: Date.now(),
          component: "test",
          level: "E",
          message: `after round ${round}`,
        });
        assert.ok(id > Math.max(lastLogId, ...reported.logIds));
        lastLogId = id;
      } finally {
        log.close();
      }
    }
  });
});
