import assert from "node:assert/strict";
import { Hono } from "hono";
import { mountSwaggerUi } from "../../src/web/swagger_ui.ts";

Deno.test("Swagger UI is served from the binary: page, stylesheet, bundle, init script; no external URL", async () => {
  const app = new Hono();
  mountSwaggerUi(app);
  const page = await app.request("/swagger-ui/");
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.doesNotMatch(html, /https?:\/\//, "the page must not load anything from another host");
  assert.match(page.headers.get("content-security-policy") ?? "", /script-src 'self'/);
  const bundle = await app.request("/swagger-ui/swagger-ui-bundle.js");
  assert.equal(bundle.status, 200);
  assert.ok((await bundle.text()).length > 1_000_000);
  assert.match(await (await app.request("/swagger-ui/init.js")).text(), /url: "\/api\/openapi\.json"/);
  assert.equal((await app.request("/swagger-ui/swagger-ui.css")).status, 200);
  assert.equal((await app.request("/swagger-ui")).status, 301);
});
