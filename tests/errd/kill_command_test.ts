import assert from "node:assert/strict";
import { killTargets, parseKillArgs, runKill } from "../../src/errd/kill_command.ts";

Deno.test("safekit kill parses -name= -argregex= -level= and the two-word form", () => {
  assert.deepEqual(parseKillArgs(["-name=java", "-argregex=app\\.jar", "-level=test"]), {
    name: "java",
    argRegex: "app\\.jar",
    level: "test",
  });
  assert.deepEqual(parseKillArgs(["-name", "httpd", "-level", "9"]), {
    name: "httpd",
    argRegex: undefined,
    level: "9",
  });
});

Deno.test("safekit kill rejects a missing name, a bad level and a bad regex with the reason", () => {
  assert.throws(() => parseKillArgs(["-level=9"]), /-name is required/);
  assert.throws(() => parseKillArgs(["-name=x", "-level=3"]), /invalid -level '3'/);
  assert.throws(() => parseKillArgs(["-name=x", "-argregex=(", "-level=test"]), /invalid -argregex/);
  assert.throws(() => parseKillArgs(["-name=x", "-bogus"]), /unexpected argument '-bogus'/);
});

Deno.test("safekit kill never designates the caller itself", () => {
  const table = [
    { pid: 1, ppid: 0, comm: "deno", state: "S", argv: ["deno"] },
    { pid: 2, ppid: 1, comm: "deno", state: "S", argv: ["deno"] },
  ];
  assert.deepEqual(killTargets({ name: "deno", level: "9" }, table, 1).map((p) => p.pid), [2]);
});

async function sleeper(tag: string, trapTerm = false): Promise<Deno.ChildProcess> {
  // With trapTerm, sleep inherits SIGTERM ignored from the shell that execs it: only SIGKILL ends it.
  const child = trapTerm
    ? new Deno.Command("sh", { args: ["-c", `trap '' TERM; exec sleep ${tag}`] }).spawn()
    : new Deno.Command("sleep", { args: [tag] }).spawn();
  await new Promise((r) => setTimeout(r, 100));
  return child;
}

Deno.test("safekit kill: test lists, 15 terminates, terminate escalates to SIGKILL", async () => {
  const tag = `${2000 + Math.floor(Math.random() * 1000)}.${Deno.pid}`;
  const re = `^${tag.replace(".", "\\.")}$`;
  const a = await sleeper(tag);
  const listed = await runKill({ name: "sleep", argRegex: re, level: "test" });
  assert.equal(listed.exitCode, 0);
  assert.equal(listed.lines.length, 1);
  assert.match(
    listed.lines[0],
    new RegExp(`^${a.pid} sleep \\S*sleep ${re.slice(1, -1)} \\(parent=${Deno.pid}\\)$`),
  );
  await runKill({ name: "sleep", argRegex: re, level: "15" });
  assert.equal((await a.status).signal, "SIGTERM");

  const b = await sleeper(tag, true);
  const t0 = Date.now();
  const out = await runKill({ name: "sleep", argRegex: re, level: "terminate" }, { graceMs: 300 });
  assert.equal(out.exitCode, 0);
  assert.equal((await b.status).signal, "SIGKILL");
  assert.ok(Date.now() - t0 >= 300, "waited the grace delay before SIGKILL");

  const none = await runKill({ name: "sleep", argRegex: re, level: "9" });
  assert.equal(none.exitCode, 1);
});
