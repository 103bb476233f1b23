// Headless Debian chromium for browser tests, driven by playwright-core under `deno test`. Without chromium
// a test skips with the reason, except in CI (CI=true), where it must run (.ci/run installs chromium).
import { type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM_PATH = Deno.env.get("SAFEKIT_CHROMIUM") ?? "/usr/bin/chromium";

/** The flags verified on these machines: no sandbox (root), no GPU, and no traffic to the Internet. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/** The reason to skip, or null to run. Throws in CI, where a browser test may not be skipped. */
export function chromiumSkipReason(): string | null {
  try {
    if (Deno.statSync(CHROMIUM_PATH).isFile) return null;
  } catch { /* missing */ }
  const reason = `needs chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set SAFEKIT_CHROMIUM)`;
  if (Deno.env.get("CI") === "true") throw new Error(`CI must run this browser test, but it ${reason}`);
  console.log(`skipped: ${reason}`);
  return reason;
}

export type Browser = {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Uncaught page errors and console errors (a CSP violation is one): a test expects none. */
  readonly problems: string[];
  close(): Promise<void>;
};

/** A fresh profile each time, so no cookie or cache leaks between tests; removed on close. */
export async function launchChromium(viewport = { width: 1280, height: 900 }): Promise<Browser> {
  const profile = await Deno.makeTempDir({ prefix: "safekit-chromium-" });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
  });
  const page = context.pages()[0] ?? await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    // Failed API calls the test makes on purpose (401, 403) are logged by chromium as resource errors.
    if (m.type() === "error" && !/Failed to load resource/.test(m.text())) {
      problems.push(`console: ${m.text()}`);
    }
  });
  return {
    context,
    page,
    problems,
    async close() {
      await context.close().catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}
