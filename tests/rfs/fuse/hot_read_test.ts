// The session reads a request on the JS thread right after answering the last in-flight one (hotRead),
// and still gives timers their turns during a long burst of requests.

import assert from "node:assert/strict";
import { mountReplicatedDir } from "../../../src/rfs/fuse/mod.ts";
import { skipUnless } from "../../support/privileges.ts";

const ignore = skipUnless({ root: true, devices: ["/dev/fuse"] }) !== null;

Deno.test({
  name: "hot read: back-to-back requests are read without the worker poll, and timers keep running",
  ignore,
  fn: async () => {
    const base = await Deno.makeTempDir({ prefix: "safekit-hot-" });
    await Deno.mkdir(`${base}/m`);
    const m = await mountReplicatedDir(`${base}/m`);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    try {
      const t0 = performance.now();
      const script =
        "import os, sys\nfor i in range(3000):\n  fd = os.open(f'{sys.argv[1]}/f{i}', os.O_CREAT | os.O_WRONLY, 0o644)\n  os.write(fd, b'x')\n  os.close(fd)";
      const out = await new Deno.Command("python3", { args: ["-c", script, `${base}/m`] }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      const elapsed = performance.now() - t0;
      assert.ok(m.session.stats.hotReads > 1000, `hot reads: ${m.session.stats.hotReads}`);
      // A starved event loop would run the 10 ms timer a handful of times at most.
      assert.ok(ticks >= elapsed / 10 / 4, `${ticks} ticks in ${elapsed.toFixed(0)} ms`);
    } finally {
      clearInterval(timer);
      await m.unmount();
      await Deno.remove(base, { recursive: true });
    }
  },
});
