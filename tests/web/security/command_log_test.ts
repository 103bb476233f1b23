// The command log says who did what. A user's entry records the call really made; only the local CLI and
// cluster nodes (which sign their requests) may describe their command in x-safekit-command.
import assert from "node:assert/strict";
import { makeNodeApp, ORIGIN } from "./node_app_fixture.ts";

Deno.test("command log: a user cannot write a made-up command line into the log", async () => {
  const f = await makeNodeApp();
  try {
    const s = await f.session("ctl");
    const res = await f.fetch("/api/v1/modules/m1/commands/restart", {
      method: "POST",
      headers: {
        cookie: s.cookie,
        "x-csrf-token": s.csrf,
        origin: ORIGIN,
        "x-safekit-command": "safekit stop -m payroll -u root",
      },
    });
    assert.equal(res.status, 404);
    await res.body?.cancel();
    const rows = f.service.commandLog.list({ last: 10 });
    const text = JSON.stringify(rows);
    assert.doesNotMatch(text, /payroll/);
    assert.match(text, /POST \/api\/v1\/modules\/m1\/commands\/restart -u ctl@192\.0\.2\.10/);
  } finally {
    await f.cleanup();
  }
});
