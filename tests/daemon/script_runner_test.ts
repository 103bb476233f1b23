// The script runner against real scripts: environment, arguments, the userlog file, the userlogsize bound,
// and a timeout that kills the whole process tree.
import assert from "node:assert/strict";
import { join } from "node:path";
import { nodePaths } from "../../src/platform/node_paths.ts";
import { ScriptRunner, ulogName } from "../../src/daemon/script_runner.ts";

async function fixture(scripts: Record<string, string>, userLogSizeKb = 2048) {
  const root = await Deno.makeTempDir();
  const paths = nodePaths(join(root, "safe"), join(root, "var"));
  const bin = join(paths.privateModuleDir("m"), "bin");
  await Deno.mkdir(bin, { recursive: true });
  await Deno.mkdir(paths.moduleVar("m"), { recursive: true });
  for (const [name, body] of Object.entries(scripts)) {
    await Deno.writeTextFile(join(bin, name), body, { mode: 0o755 });
    await Deno.chmod(join(bin, name), 0o755);
  }
  const runner = new ScriptRunner(paths, "m", {
    niceStopTimeoutMs: 5000,
    forceStopTimeoutMs: 5000,
    logging: "userlog",
    userLogSizeKb,
    vars: [{ name: "MYVAR", value: "my value" }],
  });
  return { root, paths, runner, cleanup: () => Deno.remove(root, { recursive: true }) };
}

Deno.test("scripts get their three arguments, the SafeKit environment and each <var>; output goes to a userlog", async () => {
  Deno.env.set("NODE_OPTIONS", "--inspect");
  const f = await fixture({
    start_prim:
      `#!/bin/sh\necho "args=$*"\necho "SAFEMODULE=$SAFEMODULE MYVAR=$MYVAR NODE_OPTIONS=$NODE_OPTIONS"\n` +
      `echo "SAFEUSERVAR=$SAFEUSERVAR"\nexit 3\n`,
  });
  try {
    const r = await f.runner.start({ name: "start_prim", args: ["WAIT", "ALONE", "start"], timeoutMs: 5000 })
      .done;
    assert.equal(r.exitCode, 3);
    assert.equal(r.timedOut, false);
    assert.match(r.logFile!, /userlog_\d{4}-\d{2}-\d{2}T\d{6}_start_prim\.ulog$/);
    const text = await Deno.readTextFile(r.logFile!);
    assert.match(text, /^args=WAIT ALONE start$/m);
    assert.match(text, /^SAFEMODULE=m MYVAR=my value NODE_OPTIONS=$/m);
    assert.match(text, new RegExp(`^SAFEUSERVAR=${f.paths.moduleVar("m")}$`, "m"));
  } finally {
    Deno.env.delete("NODE_OPTIONS");
    await f.cleanup();
  }
});

Deno.test("a missing script counts as done; a userlog stops growing at userlogsize", async () => {
  const f = await fixture({ chatty: "#!/bin/sh\nhead -c 100000 /dev/zero | tr '\\0' x\n" }, 10);
  try {
    const missing = await f.runner.start({
      name: "stop_prim",
      args: ["PRIM", "STOP", "stop"],
      timeoutMs: 1000,
    }).done;
    assert.deepEqual([missing.exitCode, missing.missing], [0, true]);
    const r = await f.runner.start({ name: "chatty", args: ["a", "b", "c"], timeoutMs: 5000 }).done;
    const size = (await Deno.stat(r.logFile!)).size;
    assert.ok(size >= 10 * 1024 && size < 10 * 1024 + 200, `userlog is ${size} bytes`);
    assert.match(await Deno.readTextFile(r.logFile!), /bytes of output dropped: userlogsize reached/);
  } finally {
    await f.cleanup();
  }
});

Deno.test("a script that outlives its timeout is killed with every process it started", async () => {
  const f = await fixture({
    stop_prim: `#!/bin/sh\n(sleep 300; echo survived) &\necho $! > "$SAFEUSERVAR/bg.pid"\nsleep 300\n`,
  });
  try {
    const t0 = Date.now();
    const r = await f.runner.start({ name: "stop_prim", args: ["PRIM", "STOP", "stop"], timeoutMs: 500 })
      .done;
    assert.equal(r.timedOut, true);
    assert.ok(Date.now() - t0 < 3000);
    const bg = Number((await Deno.readTextFile(join(f.paths.moduleVar("m"), "bg.pid"))).trim());
    await new Promise((res) => setTimeout(res, 100));
    const alive = await Deno.readTextFile(`/proc/${bg}/stat`).then((s) => !/\) Z /.test(s), () => false);
    assert.equal(alive, false, "a background child of the script survived");
  } finally {
    await f.cleanup();
  }
});

Deno.test("forcestop: kill() ends a running script at once", async () => {
  const f = await fixture({ start_prim: "#!/bin/sh\nsleep 300\n" });
  try {
    const { handle, done } = f.runner.start({ name: "start_prim", args: ["x", "y", "z"], timeoutMs: 60_000 });
    await new Promise((res) => setTimeout(res, 200));
    f.runner.kill(handle);
    const r = await done;
    assert.equal(r.killed, true);
  } finally {
    await f.cleanup();
  }
});

Deno.test("userlog names follow userlog_<YYYY-MM-DD>T<hhmmss>_<script>.ulog", () => {
  assert.equal(
    ulogName("start_prim", new Date(2024, 1, 12, 9, 14, 10)),
    "userlog_2024-02-12T091410_start_prim.ulog",
  );
});
