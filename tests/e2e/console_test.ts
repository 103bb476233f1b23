/// <reference lib="dom" />
// The browser console against two real node services, in headless chromium: log in by keyboard, see both
// nodes' tiles, swap as a Control user and watch the roles exchange, read the log and a resource's history
// through node1 for node2, see a Monitor user get no actions (and a refused direct call) at 375 px wide,
// have the cluster.xml editor flag an error with its line, and see a stopped node as an ERROR tile. The
// states arrive over server-sent events (no polling while the stream is live); the command log shows the
// swap and who did it; the userconfig.xml form changes a field and keeps what it does not show.
// Nodes on 127.0.0.41/.42, so this test does not wait for the integration tests' 127.0.0.2/.3.
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { chromiumSkipReason, launchChromium } from "../support/chromium.ts";
import { withNodes } from "../integration/node_harness.ts";
import { establishPair, mirrorSafe, MODULE, setupMirror } from "../integration/mirror_harness.ts";

const ADDR1 = "127.0.0.41";
const ADDR2 = "127.0.0.42";
const NODE1 = `http://${ADDR1}:9010`;
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
    await withNodes([["node1", ADDR1], ["node2", ADDR2]], async ([n1, n2], root) => {
      // An element and a comment the userconfig form does not show, to see them survive its round trip.
      await setupMirror(n1, n2, root, {
        extra: '<!-- kept by the console form --><errd polltimer="10s"></errd>',
      });
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
      const anonymous = await fetch(`${NODE1}/api/v1/events`);
      assert.equal(anonymous.status, 401, "the event stream needs a login like every read");
      await anonymous.body?.cancel();
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline/);

      const browser = await launchChromium();
      try {
        const { page } = browser;
        // Every request the page makes, to see which feed it uses.
        const requests: string[] = [];
        page.on("request", (r) => requests.push(new URL(r.url()).pathname));
        // Control: both nodes, then a swap chosen with the keyboard in node1's actions menu.
        await loginByKeyboard(page, USERS.control);
        await waitTileState(page, "node1", "PRIM (Ready)");
        await waitTileState(page, "node2", "SECOND (Ready)");
        await page.waitForSelector('#feed[data-mode="live"]');
        assert.ok(requests.includes("/api/v1/events"), "the page opened the event stream");
        const polledBefore = requests.filter((p) => p === "/api/v1/cluster/modules").length;
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
        // The new states came over the stream: the page did not poll, and it is still live.
        assert.equal(requests.filter((p) => p === "/api/v1/cluster/modules").length, polledBefore);
        assert.equal(await page.getAttribute("#feed", "data-mode"), "live");

        // A change made outside the browser shows without a reload too (the secondary, node1, stops and
        // comes back: the roles stay as the swap left them).
        await n1.ok("stop", "-m", MODULE);
        await waitTileState(page, "node1", "STOP (NotReady)");
        await waitTileState(page, "node2", "ALONE (Ready)");
        await n1.ok("start", "-m", MODULE);
        await waitTileState(page, "node1", "SECOND (Ready)", 60_000);
        await waitTileState(page, "node2", "PRIM (Ready)", 60_000);
        assert.equal(requests.filter((p) => p === "/api/v1/cluster/modules").length, polledBefore);

        // The command log names the swap and carol; a snapshot of node2 comes through node1.
        await page.click('a:text("Commands log")');
        await page.waitForFunction(() =>
          [...document.querySelectorAll("table.commands tr[data-kind=START]")].some((tr) =>
            /commands\/swap/.test(tr.querySelector(".what")?.textContent ?? "") &&
            /^carol@/.test(tr.querySelector(".who")?.textContent ?? "")
          )
        );
        await shot(page, "2b-command-log");
        const snapshot = await page.evaluate(async (module) => {
          const r = await fetch(`/api/v1/nodes/node2/modules/${module}/snapshot`);
          const bytes = new Uint8Array(await r.arrayBuffer());
          return {
            status: r.status,
            type: r.headers.get("content-type"),
            disposition: r.headers.get("content-disposition"),
            magic: Array.from(bytes.slice(0, 2)),
          };
        }, MODULE);
        assert.deepEqual(snapshot, {
          status: 200,
          type: "application/zip",
          disposition: `attachment; filename="snapshot_node2_${MODULE}.zip"`,
          magic: [0x50, 0x4b],
        });
        await page.click('a:text("Monitoring")');

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
        const bad = lines.findIndex((l) => l.includes(`addr="${ADDR2}"`));
        assert.ok(bad > 0, xml);
        lines[bad] = lines[bad].replace(`addr="${ADDR2}"`, `addr="${ADDR2}.9"`);
        await page.fill("#cluster-xml", lines.join("\n"));
        await page.waitForSelector(".verdict-error .error-line");
        assert.equal(await page.textContent(".verdict-error .error-line"), `Line ${bad + 1}:`);
        assert.equal(await page.textContent(".gutter li.bad"), String(bad + 1));
        assert.equal(await page.getAttribute("#cluster-xml", "aria-invalid"), "true");
        await shot(page, "6-cluster-xml-error");
        await page.fill("#cluster-xml", xml);
        await page.waitForSelector(".verdict-ok");
        assert.match(await page.textContent(".verdict-ok") ?? "", /node1, node2/);

        // Admin: the userconfig.xml form changes the heartbeat pulse and keeps what it does not show.
        await page.click('nav[aria-label="sections"] a:text("Modules")');
        await page.click(`table.modules a:text("${MODULE}")`);
        await page.waitForSelector("#uc-pulse");
        assert.equal(await page.inputValue("#uc-pulse"), "200ms");
        await page.fill("#uc-pulse", "300ms");
        await page.press("#uc-pulse", "Tab");
        await page.click("#uc-save");
        await page.waitForSelector("#uc-verdict.verdict-ok");
        const saved = await page.evaluate(async (module) => {
          return await (await fetch(`/api/v1/modules/${module}/userconfig`)).text();
        }, MODULE);
        assert.match(saved, /<heart pulse="300ms" timeout="1s">/);
        assert.match(saved, /<!-- kept by the console form -->/);
        assert.match(saved, /<errd polltimer="10s"><\/errd>|<errd polltimer="10s"\/>/);
        assert.match(saved, /<user nicestoptimeout="10s" forcestoptimeout="10s"\/>/);
        // A refused text is not saved: the node names the problem and the file stays as it was.
        await page.fill("#uc-pulse", "fast");
        await page.press("#uc-pulse", "Tab");
        await page.click("#uc-save");
        await page.waitForSelector("#uc-verdict.verdict-error");
        assert.match(await page.textContent("#uc-verdict") ?? "", /pulse/);
        assert.equal(
          await page.evaluate(
            async (m) => await (await fetch(`/api/v1/modules/${m}/userconfig`)).text(),
            MODULE,
          ),
          saved,
        );
        await shot(page, "6b-userconfig-form");

        // Admin: install a second module from an uploaded .safe, then apply it on both nodes from its page.
        await page.click('nav[aria-label="sections"] a:text("Modules")');
        await page.setInputFiles("#install-file", await mirrorSafe(root));
        await page.fill("#install-name", "extra");
        await page.click('form.install button:text-is("Install")');
        await page.waitForSelector('table.modules a:text("extra")');
        await page.click('table.modules a:text("extra")');
        await page.waitForSelector("#uc-pulse");
        await page.click("#uc-apply-all");
        await page.waitForSelector("#uc-verdict.verdict-ok", { timeout: 30_000 });
        const applied = await page.textContent("#uc-verdict") ?? "";
        assert.match(applied, /node1: configured/);
        assert.match(applied, /node2: installed with id \d+ and configured/);
        await page.click('a:text("Monitoring")');
        await page.waitForSelector(
          'li.tile[data-node="node2"][data-module="extra"][data-state="STOP (NotReady)"]',
        );

        // A node that stops answering becomes a red ERROR tile; the other node takes over.
        await page.click('a:text("Monitoring")');
        await waitTileState(page, "node2", "SECOND (Ready)");
        await n2.stop();
        await waitTileState(page, "node2", "ERROR");
        assert.equal(await page.getAttribute(tile("node2"), "class"), "tile tile-red");
        await shot(page, "7-node2-error");

        assert.deepEqual(browser.problems, []);
      } catch (e) {
        // What the page showed when it failed, next to the step screenshots.
        await shot(browser.page, "failure").catch(() => {});
        console.error("browser problems:", browser.problems);
        throw e;
      } finally {
        await browser.close();
      }
    });
  },
});
