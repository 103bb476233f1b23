// A custom checker executable against a fake `safekit` first in PATH that records how it was called.
import assert from "node:assert/strict";
import { join } from "node:path";
import { CustomChecker, DEFAULT_BACKOFF, nextRestartDelay } from "../../src/checkers/custom_checker.ts";
import { readProcTable } from "../../src/errd/errd_monitor.ts";

Deno.test("restart delay doubles up to the cap and starts over after a healthy run", () => {
  const b = { initialMs: 100, maxMs: 350, healthyRunMs: 1000 };
  assert.equal(nextRestartDelay(null, 10, b), 100);
  assert.equal(nextRestartDelay(100, 10, b), 200);
  assert.equal(nextRestartDelay(200, 10, b), 350);
  assert.equal(nextRestartDelay(350, 10, b), 350);
  assert.equal(nextRestartDelay(350, 1000, b), 100);
  assert.equal(DEFAULT_BACKOFF.initialMs, 1000);
});

async function fixture(script: string) {
  const root = await Deno.makeTempDir();
  const bin = join(root, "bin");
  const fake = join(root, "fakebin");
  await Deno.mkdir(bin);
  await Deno.mkdir(fake);
  const record = join(root, "safekit_calls");
  await Deno.writeTextFile(join(fake, "safekit"), `#!/bin/sh\necho "$@" >> "${record}"\n`);
  await Deno.writeTextFile(join(bin, "mycheck.sh"), `#!/bin/sh\n${script}\n`);
  for (const f of [join(fake, "safekit"), join(bin, "mycheck.sh")]) await Deno.chmod(f, 0o755);
  const env = { userBin: bin, environment: () => ({ PATH: `${fake}:/usr/bin:/bin`, SAFEMODULE: "mirror" }) };
  const calls = async () =>
    (await Deno.readTextFile(record).catch(() => "")).split("\n").filter((l) => l !== "");
  return { root, bin, env, calls };
}

async function until(cond: () => Promise<boolean>, ms = 4000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

Deno.test("custom checker: started with <module> <resource> [arg...], it sets its resource; started again when it exits", async () => {
  const f = await fixture(`safekit set -r "$2" -v up -i mycheck -m "$1" "$3" "$4"\nsleep 0.1\nexit 3`);
  const logs: string[] = [];
  const reports: string[] = [];
  const c = new CustomChecker("custom.app", "mirror", "mycheck.sh", "alpha  beta", f.env, {
    backoff: { initialMs: 100, maxMs: 200, healthyRunMs: 60_000 },
    log: (m) => logs.push(m),
  });
  c.start((r, v) => reports.push(`${r}=${v}`));
  try {
    await until(async () => (await f.calls()).length >= 3);
    const calls = await f.calls();
    assert.equal(calls[0], "set -r custom.app -v up -i mycheck -m mirror alpha beta");
    assert.deepEqual(new Set(calls), new Set([calls[0]]), "every run got the same arguments");
    assert.match(logs[0], /^Custom checker custom\.app exited with code 3; started again in 100 ms$/);
    assert.match(logs[1], /started again in 200 ms$/);
    assert.deepEqual(reports, [], "the value comes from the executable, never from the checker");
  } finally {
    await c.stop();
    await Deno.remove(f.root, { recursive: true });
  }
});

Deno.test("custom checker: stop kills the executable's whole process tree and it is not restarted", async () => {
  const tag = `${3000 + Math.floor(Math.random() * 1000)}.${Deno.pid}`;
  const f = await fixture(`sleep ${tag} &\nsafekit set -r "$2" -v up\nwait`);
  const c = new CustomChecker("custom.tree", "mirror", join(f.bin, "mycheck.sh"), undefined, f.env, {
    backoff: { initialMs: 50, maxMs: 50, healthyRunMs: 60_000 },
  });
  const mine = async () => (await readProcTable()).filter((p) => p.argv.at(-1) === tag);
  c.start(() => {});
  try {
    await until(async () => (await mine()).length === 1);
    const pid = c.pid;
    assert.ok(pid !== null);
    await c.stop();
    assert.deepEqual(await mine(), [], "the background sleep went with its parent");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(c.pid, null);
    assert.equal((await f.calls()).length, 1, "not started again after stop");
  } finally {
    await c.stop();
    await Deno.remove(f.root, { recursive: true });
  }
});
