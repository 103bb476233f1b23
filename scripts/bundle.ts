// `deno task bundle`: bundles the app (main.ts and everything it imports, npm packages included) into one
// JavaScript file that `deno run --no-config` can start from any directory. The single-file fallback of
// scripts/build.ts ships this bundle. Usage: deno run -A scripts/bundle.ts [--entry main.ts]
// [--out dist/safekit.bundle.js] [--minify]
import { parseArgs } from "node:util";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

export type BundleOptions = { readonly entry: string; readonly outFile: string; readonly minify?: boolean };

/** Runs `deno bundle --platform deno`; throws with deno's own diagnostics when it fails. */
export async function bundleApp(opts: BundleOptions): Promise<void> {
  await Deno.mkdir(dirname(resolve(REPO_ROOT, opts.outFile)), { recursive: true });
  const args = ["bundle", "--platform", "deno", "-o", opts.outFile];
  if (opts.minify) args.push("--minify");
  args.push(opts.entry);
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`deno bundle ${opts.entry} failed (exit ${out.code}):\n${text.trim()}`);
  }
  // An empty or missing file would otherwise only surface later, as a launcher that cannot start.
  const info = await Deno.stat(resolve(REPO_ROOT, opts.outFile)).catch(() => null);
  if (!info || info.size === 0) {
    throw new Error(`deno bundle ${opts.entry} wrote no output to ${opts.outFile}:\n${text}`);
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      entry: { type: "string", default: "main.ts" },
      out: { type: "string", default: "dist/safekit.bundle.js" },
      minify: { type: "boolean", default: false },
    },
  });
  try {
    await bundleApp({ entry: values.entry, outFile: values.out, minify: values.minify });
    const size = (await Deno.stat(resolve(REPO_ROOT, values.out))).size;
    console.log(`bundled ${values.entry} -> ${values.out} (${(size / 1024).toFixed(1)} KiB)`);
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
}
