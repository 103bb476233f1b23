// The committed src/web/console_assets.ts must be what scripts/build_console.ts makes from console/ now,
// or `deno run main.ts` would serve an old console. The node serves it with a strict CSP.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { ASSETS_MODULE, assetsModule, bundleConsole } from "../../scripts/build_console.ts";
import { CONSOLE_CSP, mountConsole } from "../../src/web/console.ts";
import { CONSOLE_CSS, CONSOLE_JS } from "../../src/web/console_assets.ts";

Deno.test("console assets: the committed module is the build of console/ (run scripts/build_console.ts)", async () => {
  const fresh = await assetsModule(await bundleConsole());
  const committed = await Deno.readTextFile(ASSETS_MODULE);
  assert.ok(
    fresh === committed,
    "src/web/console_assets.ts is out of date: run `deno run -A scripts/build_console.ts` and commit it",
  );
});

Deno.test("console: / redirects to /console/, which serves the page, script and styles under a strict CSP", async () => {
  const app = new Hono();
  mountConsole(app);
  const root = await app.request("/");
  assert.equal(root.status, 302);
  assert.equal(root.headers.get("location"), "/console/");
  const page = await app.request("/console/");
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
  const html = await page.text();
  assert.match(html, /<script type="module" src="\/console\/app\.js"><\/script>/);
  assert.doesNotMatch(html, /<script>|<style>| style=/, "no inline script or style: the CSP forbids them");
  for (
    const [path, type, body] of [
      ["/console/app.js", /^text\/javascript/, CONSOLE_JS],
      ["/console/app.css", /^text\/css/, CONSOLE_CSS],
    ] as const
  ) {
    const r = await app.request(path);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", type);
    assert.equal(r.headers.get("content-security-policy"), CONSOLE_CSP);
    assert.equal(r.headers.get("x-content-type-options"), "nosniff");
    assert.equal(await r.text(), body);
  }
  assert.match(CONSOLE_CSP, /default-src 'none'/);
  assert.match(CONSOLE_CSP, /frame-ancestors 'none'/);
  assert.doesNotMatch(CONSOLE_CSP, /unsafe/);
});

Deno.test("console: the script and styles are sent gzip-compressed when the browser accepts it", async () => {
  const app = new Hono();
  mountConsole(app);
  for (const [path, body] of [["/console/app.js", CONSOLE_JS], ["/console/app.css", CONSOLE_CSS]] as const) {
    const r = await app.request(path, { headers: { "accept-encoding": "gzip, deflate, br" } });
    assert.equal(r.headers.get("content-encoding"), "gzip");
    assert.equal(r.headers.get("vary"), "accept-encoding");
    const zipped = new Uint8Array(await r.arrayBuffer());
    assert.ok(
      zipped.length < body.length / 2,
      `${path}: ${zipped.length} bytes compressed of ${body.length}`,
    );
    const plain = await new Response(
      new Blob([zipped]).stream().pipeThrough(new DecompressionStream("gzip")),
    ).text();
    assert.equal(plain, body);
  }
});
