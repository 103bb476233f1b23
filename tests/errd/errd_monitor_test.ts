// The errd driver against real processes: `sleep` children with distinctive arguments, killed by the test.
import assert from "node:assert/strict";
import { join } from "node:path";
import type { ErrdConfig, ErrdProc } from "../../src/config/mod.ts";
import type { ErrdEffect } from "../../src/errd/errd_automaton.ts";
import { ErrdMonitor, readProcTable } from "../../src/errd/errd_monitor.ts";

const POLL_MS = 150;

function proc(p: Partial<ErrdProc> & { name: string }): ErrdProc {
  return {
    service: false,
    atLeast: 1,
    atMax: -1,
    action: { kind: "restart" },
    restartServices: [],
    class: "prim",
    resource: `proc.${p.name}`,
    ...p,
  };
}

function spawnSleep(exe = "sleep", tag = uniqueTag()): { child: Deno.ChildProcess; tag: string } {
  const child = new Deno.Command(exe, { args: [tag], stdout: "null", stderr: "null" }).spawn();
  return { child, tag };
}

/** A sleep duration no other process on the machine uses, so argregex finds only ours. */
function uniqueTag(): string {
  return `${1000 + Math.floor(Math.random() * 1000)}.${Deno.pid}${Math.floor(Math.random() * 1e6)}`;
}

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

function recorder() {
  const actions: Extract<ErrdEffect, { kind: "action" }>[] = [];
  const resources: string[] = [];
  const logs: string[] = [];
  return {
    actions,
    resources,
    logs,
    opts: {
      onAction: (a: Extract<ErrdEffect, { kind: "action" }>) => actions.push(a),
      onResource: (r: string, v: string) => resources.push(`${r}=${v}`),
      log: (_level: string, m: string) => logs.push(m),
    },
  };
}

Deno.test("readProcTable sees a started process with its arguments", async () => {
  const { child, tag } = spawnSleep();
  try {
    const table = await readProcTable();
    const me = table.find((p) => p.pid === child.pid);
    assert.equal(me?.comm, "sleep");
    assert.match(me?.argv[0] ?? "", /(^|\/)sleep$/);
    assert.deepEqual(me?.argv.slice(1), [tag]);
    assert.equal(me?.ppid, Deno.pid);
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
});

Deno.test("errd monitor: a killed process triggers its action after a polltimer, with the errd messages", async () => {
  const { child, tag } = spawnSleep();
  const rec = recorder();
  const config: ErrdConfig = {
    pollTimerMs: POLL_MS,
    procs: [proc({ name: "sleep", argRegex: `^${tag.replace(".", "\\.")}$`, action: { kind: "restart" } })],
  };
  const monitor = new ErrdMonitor(config, rec.opts);
  monitor.start();
  try {
    monitor.enableClass("prim");
    await waitFor(() => rec.resources.length === 1);
    assert.deepEqual(rec.resources, ["proc.sleep=up"]);
    assert.equal(rec.actions.length, 0);
    child.kill("SIGKILL");
    await child.status;
    const killedAt = Date.now();
    await waitFor(() => rec.actions.length === 1);
    assert.ok(Date.now() - killedAt <= 3 * POLL_MS + 500, "acted within a few polltimers");
    assert.equal(rec.actions[0].action, "restart");
    assert.equal(rec.actions[0].message, "Action restart called by errd");
    assert.deepEqual(rec.logs, ["Process sleep not running"]);
    assert.deepEqual(rec.resources, ["proc.sleep=up", "proc.sleep=down"]);
  } finally {
    await monitor.stop();
    try {
      child.kill("SIGKILL");
    } catch { /* already killed */ }
  }
});

Deno.test("errd monitor: a long command name matches by its 15-character kernel name", async () => {
  const dir = await Deno.makeTempDir();
  const exe = join(dir, "safekit_errd_long_name_app");
  await Deno.copyFile("/bin/sleep", exe);
  await Deno.chmod(exe, 0o755);
  const { child, tag } = spawnSleep(exe);
  const rec = recorder();
  const monitor = new ErrdMonitor({
    pollTimerMs: POLL_MS,
    procs: [
      proc({
        name: "safekit_errd_long_name_app",
        argRegex: tag.replace(".", "\\."),
        action: { kind: "stop" },
      }),
    ],
  }, rec.opts);
  monitor.start();
  try {
    monitor.enableClass("prim");
    await waitFor(() => rec.resources.length === 1);
    assert.deepEqual(rec.resources, ["proc.safekit_errd_long_name_app=up"]);
    child.kill("SIGKILL");
    await waitFor(() => rec.actions.length === 1);
    assert.equal(rec.actions[0].action, "stop");
  } finally {
    await monitor.stop();
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("errd monitor: a handler runs in the module environment; its failure becomes stopstart", async () => {
  const bin = await Deno.makeTempDir();
  const marker = join(bin, "handler_ran");
  await Deno.writeTextFile(
    join(bin, "fix.sh"),
    `#!/bin/sh\necho "$SAFEMODULE" >> "${marker}"\nexit 4\n`,
  );
  await Deno.chmod(join(bin, "fix.sh"), 0o755);
  const rec = recorder();
  const monitor = new ErrdMonitor({
    pollTimerMs: POLL_MS,
    procs: [proc({ name: "no_such_proc_x", action: { kind: "handler", exe: "fix.sh" } })],
  }, {
    ...rec.opts,
    scripts: { userBin: bin, environment: () => ({ PATH: "/usr/bin:/bin", SAFEMODULE: "mirror" }) },
  });
  monitor.start();
  try {
    monitor.enableClass("prim");
    await waitFor(() => rec.actions.length >= 1);
    assert.equal(rec.actions[0].action, "stopstart");
    assert.equal((await Deno.readTextFile(marker)).split("\n")[0], "mirror");
    assert.equal(rec.logs[0], "Process no_such_proc_x not running");
  } finally {
    await monitor.stop();
    await Deno.remove(bin, { recursive: true });
  }
});

Deno.test("errd monitor: a disabled class is not monitored", async () => {
  const rec = recorder();
  const monitor = new ErrdMonitor({
    pollTimerMs: POLL_MS,
    procs: [proc({ name: "no_such_proc_y", class: "both" })],
  }, rec.opts);
  monitor.start();
  try {
    monitor.enableClass("prim");
    await new Promise((r) => setTimeout(r, 3 * POLL_MS));
    assert.deepEqual(rec.actions, []);
    assert.deepEqual(rec.resources, []);
  } finally {
    await monitor.stop();
  }
});
