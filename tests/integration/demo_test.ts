// `safekit demo` brings up a working 2-node cluster and stops it cleanly on Ctrl+C.
import assert from "node:assert/strict";
import { join } from "node:path";
import { MAIN } from "./node_harness.ts";

Deno.test("the demo starts two node services, configures the cluster and a module, and stops on SIGINT", async () => {
  const dir = await Deno.makeTempDir({ prefix: "safekit-demo-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "demo", dir],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  let out = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const errText = new Response(child.stderr).text();
  try {
    const deadline = Date.now() + 60_000;
    while (!out.includes("Press Ctrl+C") && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    assert.match(out, /Press Ctrl\+C/, out);
    const state = await new Deno.Command(join(dir, "node1", "safekit"), { args: ["-H", "*", "state"] })
      .output();
    const text = new TextDecoder().decode(state.stdout);
    assert.equal(state.code, 0, text + new TextDecoder().decode(state.stderr));
    assert.equal(text.match(/demo\s+1\s+mirror/g)?.length, 2, text);
    const probe = await fetch("http://127.0.0.3:9010/var/modules/demo/ready.txt");
    await probe.body?.cancel();
    assert.equal(probe.status, 404);
  } finally {
    child.kill("SIGINT");
    const status = await child.status;
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    await errText;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    assert.equal(status.code, 0, out);
    assert.match(out, /demo stopped/);
  }
});
