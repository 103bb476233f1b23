/// <reference lib="dom" />
// The browser console against two real node services, in headless chromium: log in by keyboard, see both
// nodes' tiles, swap as a Control user and watch the roles exchange, read the log and a resource's history
// through node1 for node2, see a Monitor user get no actions (and a refused direct call) at 375 px wide,
// have the cluster.xml editor flag an error with its line, and see a stopped node as an ERROR tile.
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { chromiumSkipReason, launchChromium } from "../support/chromium.ts";
import { withNodes } from "../integration/node_harness.ts";
import { establishPair, MODULE, setupMirror } from "../integration/mirror_harness.ts";

const NODE1 = "http://127.0.0.2:9010";
/** Where the console is served: by node1 itself (src/web/console.ts mounted in src/web/app.ts). */
const consoleUrl = `${NODE1}/console/`;
const ARTIFACTS = join(import.meta.dirname!, "..", "..", "test-artifacts", "console");

const USERS = {
  control: { name: "carol", password: "control-pass-1", role: "Control" },
  monitor: { name: "mona", password: "monitor-pass-1", role: "Monitor" },
  admin: { name: "admin", password: "admin-pass-1", role: "Admin" },
} as const;

async function loginByKeyboard(page: Page, user: { name: string; password: string }) {
  await page.goto(consoleUrl);
  await page.waitForSelector("#login-user");
  await page.focus("#login-user");
  await page.keyboard.type(user.name);
  await page.keyboard.press("Tab");
  await page.keyboard.type(user.password);
  await page.keyboard.press("Enter");
  await page.waitForSelector("#whoami");
}

function tile(node: string) {
  return `li.tile[data-node="${node}"][data-module="${MODULE}"]`;
}

async function waitTileState(page: Page, node: string, state: string, timeout = 30_000) {
  await page.waitForSelector(`${tile(node)}[data-state="${state}"]`, { timeout });
}

async function shot(page: Page, name: string) {
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

const skip = chromiumSkipReason();

Deno.test({
  name:
    "console: login, two nodes, swap by Control, log and history, Monitor without actions, cluster.xml errors",
  ignore: skip !== null,
  sanitizeResources: false, // playwright keeps its pipe to chromium until the context closes
  sanitizeOps: false,
  fn: async () => {
    await withNodes([["node1", "127.0.0.2"], ["node2", "127.0.0.3"]], async ([n1, n2], root) => {
      await setupMirror(n1, n2, root);
      await establishPair(n1, n2);
      for (const u of Object.values(USERS)) {
        await n1.ok("webservercfg", "-passwd", u.password, "-user", u.name, "-role", u.role);
      }
      const served = await fetch(consoleUrl);
      const csp = served.headers.get("content-security-policy") ?? "";
      assert.equal(
        served.status,
        200,
        `node1 does not serve the console at ${consoleUrl}: wire mountConsole (docs/console.md)`,
      );
      await served.body?.cancel();
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline/);

      const browser = await launchChromium();
      try {
        const { page } = browser;
        // Control: both nodes, then a swap chosen with the keyboard in node1's actions menu.
        await loginByKeyboard(page, USERS.control);
        await waitTileState(page, "node1", "PRIM (Ready)");
        await waitTileState(page, "node2", "SECOND (Ready)");
        assert.match(await page.textContent(`${tile("node1")} .detail`) ?? "", /\S/);
        assert.equal(await page.getAttribute(tile("node1"), "class"), "tile tile-green");
        await shot(page, "1-control-monitoring");
        await page.focus(`${tile("node1")} details.actions summary`);
        await page.keyboard.press("Enter");
        await page.focus(`${tile("node1")} button[data-verb="swap"]`);
        await page.keyboard.press("Enter");
        await waitTileState(page, "node1", "SECOND (Ready)");
        await waitTileState(page, "node2", "PRIM (Ready)");
        await shot(page, "2-after-swap");
        assert.match(await n1.ok("log", "-m", MODULE, "-A"), /Action swap called by carol@/);

        // node2's log and state.local history, read through node1.
        await page.click(`${tile("node2")} a:text("Log")`);
        await page.waitForSelector("ol.log li");
        const plain = await page.locator("ol.log li").count();
        await page.check("#log-verbose");
        await page.waitForFunction((n) => document.querySelectorAll("ol.log li").length > n, plain);
        await page.fill("#log-search", "swap");
        await page.waitForFunction(() => {
          const rows = [...document.querySelectorAll("ol.log li .message")];
          return rows.length > 0 && rows.every((r) => /swap/i.test(r.textContent ?? ""));
        });
        await shot(page, "3-node2-log-search");
        await page.click('nav.breadcrumb a:text("Resources")');
        await page.click('button:text-is("state.local")');
        await page.waitForFunction(() => {
          const t = document.querySelector(".history")?.textContent ?? "";
          return t.includes("PRIM Ready") && t.includes("SECOND Ready");
        });
        await shot(page, "4-node2-state-history");

        // Swap back from node2's tile: the action goes to node2 through node1 (signed by node1), and node2's
        // command log names carol.
        await page.click('a:text("Monitoring")');
        await page.click(`${tile("node2")} details.actions summary`);
        await page.click(`${tile("node2")} button[data-verb="swap"]`);
        await waitTileState(page, "node1", "PRIM (Ready)");
        await waitTileState(page, "node2", "SECOND (Ready)");
        assert.match(await n2.ok("log", "-m", MODULE, "-A"), /Action swap called by node1@/);
        assert.match(await n2.ok("cmdlog"), /commands\/swap by carol@/);
        await page.click('button:text("Log out")');
        await page.waitForSelector("#login-user");

        // Monitor at 375 px: tiles, no actions, no configuration; the API refuses an action anyway.
        await page.setViewportSize({ width: 375, height: 800 });
        await loginByKeyboard(page, USERS.monitor);
        await waitTileState(page, "node1", "PRIM (Ready)");
        await waitTileState(page, "node2", "SECOND (Ready)");
        assert.equal(await page.locator("details.actions").count(), 0);
        assert.equal(await page.locator('a:text("Configuration")').count(), 0);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(overflow <= 375, `the page is ${overflow} px wide at a 375 px viewport`);
        await shot(page, "5-monitor-375px");
        const refused = await page.evaluate(async (module) => {
          const who = await (await fetch("/api/v1/auth/whoami")).json();
          const call = (path: string) =>
            fetch(path, {
              method: "POST",
              headers: { "x-csrf-token": who.csrfToken, "content-type": "application/json" },
              body: "{}",
            }).then(async (r) => ({ status: r.status, error: (await r.json()).error as string }));
          return [
            await call(`/api/v1/modules/${module}/commands/stop`),
            await call(`/api/v1/nodes/node2/modules/${module}/commands/stop`),
          ];
        }, MODULE);
        for (const r of refused) {
          assert.equal(r.status, 403);
          assert.match(r.error, /role Monitor; this call needs Control/);
        }
        await page.click('button:text("Log out")');
        await page.waitForSelector("#login-user");
        await page.setViewportSize({ width: 1280, height: 900 });

        // Admin: the cluster.xml editor flags a wrong address with its line, then accepts the fix.
        await loginByKeyboard(page, USERS.admin);
        await page.click('a:text("Configuration")');
        await page.waitForSelector(".verdict-ok");
        const xml = await page.inputValue("#cluster-xml");
        const lines = xml.split("\n");
        const bad = lines.findIndex((l) => l.includes('addr="127.0.0.3"'));
        assert.ok(bad > 0, xml);
        lines[bad] = lines[bad].replace('addr="127.0.0.3"', 'addr="127.0.0.3.9"');
        await page.fill("#cluster-xml", lines.join("\n"));
        await page.waitForSelector(".verdict-error .error-line");
        assert.equal(await page.textContent(".verdict-error .error-line"), `Line ${bad + 1}:`);
        assert.equal(await page.textContent(".gutter li.bad"), String(bad + 1));
        assert.equal(await page.getAttribute("#cluster-xml", "aria-invalid"), "true");
        await shot(page, "6-cluster-xml-error");
        await page.fill("#cluster-xml", xml);
        await page.waitForSelector(".verdict-ok");
        assert.match(await page.textContent(".verdict-ok") ?? "", /node1, node2/);

        // A node that stops answering becomes a red ERROR tile; the other node takes over.
        await page.click('a:text("Monitoring")');
        await waitTileState(page, "node2", "SECOND (Ready)");
        await n2.stop();
        await waitTileState(page, "node2", "ERROR");
        assert.equal(await page.getAttribute(tile("node2"), "class"), "tile tile-red");
        await shot(page, "7-node2-error");

        assert.deepEqual(browser.problems, []);
      } finally {
        await browser.close();
      }
    });
  },
});
