// The node service must not open a debugger on SIGUSR1 (Deno opens an unauthenticated inspector on
// 127.0.0.1:9229 when a `deno run` process gets it). This starts a real node service, sends SIGUSR1 at
// several moments, and checks the process survives and no inspector answers.
import assert from "node:assert/strict";
import { join } from "node:path";
import { MAIN } from "../integration/node_harness.ts";

async function inspectorAnswers(): Promise<boolean> {
  try {
    const r = await fetch("http://127.0.0.1:9229/json/list", { signal: AbortSignal.timeout(1000) });
    const text = await r.text();
    return text.includes("webSocketDebuggerUrl");
  } catch {
    return false;
  }
}

Deno.test({
  name: "SIGUSR1 neither kills the node service nor opens a debugger",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const root = await Deno.makeTempDir();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "daemon"],
      env: { SAFE: join(root, "safe"), SAFEVAR: join(root, "var"), PATH: Deno.env.get("PATH") ?? "" },
      clearEnv: true,
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      // Wait for the control socket, i.e. the service is up and its guard is in place.
      const sock = join(root, "var", "run", "safeadmin.sock");
      for (let i = 0; i < 200; i++) {
        if (await Deno.stat(sock).then(() => true, () => false)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      for (const delay of [100, 600, 1500]) {
        await new Promise((r) => setTimeout(r, delay));
        Deno.kill(child.pid, "SIGUSR1");
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(await inspectorAnswers(), false, `an inspector answered after SIGUSR1 (+${delay} ms)`);
      }
      const exited = await Promise.race([
        child.status.then(() => true),
        new Promise((r) => setTimeout(() => r(false), 500)),
      ]);
      assert.equal(exited, false, "the node service died on SIGUSR1");
    } finally {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
      await Deno.remove(root, { recursive: true });
    }
  },
});
