// The health probe: 200/404 by readiness, and an ETag naming when the module last became ready, so a
// <module> checker elsewhere sees a restart even between two of its polls.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { probeResponse } from "../../src/web/probe.ts";

Deno.test("probe: ready answers 200 with the ready-since ETag; not ready answers 404 without one", async () => {
  const since = new Map([["app", 1700000000123]]);
  const app = new Hono();
  app.on(
    ["GET", "HEAD"],
    "/var/modules/:module/ready.txt",
    (c) => probeResponse(c, { isReady: (m) => since.has(m), readySince: (m) => since.get(m) }),
  );
  const ok = await app.request("/var/modules/app/ready.txt");
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), "OK\n");
  assert.equal(ok.headers.get("etag"), '"ready-1700000000123"');
  const head = await app.request("/var/modules/app/ready.txt", { method: "HEAD" });
  assert.equal(head.headers.get("etag"), '"ready-1700000000123"');
  const nf = await app.request("/var/modules/other/ready.txt");
  assert.equal(nf.status, 404);
  assert.equal(nf.headers.get("etag"), null);
});
