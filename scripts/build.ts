// `deno task build`: the release files in dist/ (docs/build.md).
//   1. dist/safekit.bundle.js (scripts/bundle.ts)
//   2. dist/safekit-<target>[.exe] per target with `deno compile`, which needs the denort runtime of the
//      running Deno version (cached zip or DENORT_BIN); each attempt is time-limited and reported.
//   3. dist/safekit: the single file to install on this host. The compiled host binary when step 2 gave
//      one, else the self-extracting fallback (sh header + tar.gz of this deno and the bundle).
// Exits 0 when dist/safekit exists for this host. Usage:
//   deno run -A scripts/build.ts [--out dist] [--only-fallback] [--target T]... [--entry main.ts]
//                                [--timeout 120] [--minify]
import { parseArgs } from "node:util";
import { join, relative, resolve } from "node:path";
import { bundleApp, REPO_ROOT } from "./bundle.ts";
import { compileTarget, outputName, TARGETS } from "./build/compile_target.ts";
import { writeLauncher } from "./build/launcher.ts";
import { formatSummary, megabytes, type TargetResult } from "./build/summary_table.ts";

const USAGE =
  "usage: deno run -A scripts/build.ts [--out DIR] [--only-fallback] [--target T]... [--entry FILE] [--timeout S] [--minify]";

type BuildOptions = {
  readonly outDir: string;
  readonly onlyFallback: boolean;
  readonly targets: readonly string[];
  readonly entry: string;
  readonly timeoutSeconds: number;
  readonly minify: boolean;
  readonly denortBin?: string;
};

function parseOptions(args: string[]): BuildOptions {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: "string", default: "dist" },
      "only-fallback": { type: "boolean", default: false },
      target: { type: "string", multiple: true },
      entry: { type: "string", default: "main.ts" },
      timeout: { type: "string", default: "120" },
      minify: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const timeoutSeconds = Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    throw new Error(`--timeout: invalid value '${values.timeout}' (expected seconds, e.g. 120)`);
  }
  const targets = values.target ?? [...TARGETS];
  for (const t of targets) {
    if (!(TARGETS as readonly string[]).includes(t)) {
      throw new Error(`--target: unknown target '${t}' (expected one of ${TARGETS.join(", ")})`);
    }
  }
  return {
    outDir: resolve(REPO_ROOT, values.out),
    onlyFallback: values["only-fallback"],
    targets,
    entry: values.entry,
    timeoutSeconds,
    minify: values.minify,
    denortBin: Deno.env.get("DENORT_BIN") || undefined,
  };
}

/**
 * Runs the compiled host binary once: a full `deno` given as DENORT_BIN compiles fine but the result ignores the
 * embedded app and behaves as deno itself (deno-fuse-network-spike §6).
 */
async function hostBinaryProblem(file: string): Promise<string | null> {
  const out = await new Deno.Command(file, {
    args: ["--version"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output().catch((e) => e as Error);
  if (out instanceof Error) return `compiled binary does not start: ${out.message}`;
  const text = new TextDecoder().decode(out.stdout);
  if (/^deno \d/.test(text)) {
    return "compiled binary runs as plain deno: DENORT_BIN must be a denort, not deno";
  }
  return null;
}

async function build(opts: BuildOptions): Promise<{ rows: TargetResult[]; hostReady: boolean }> {
  await Deno.mkdir(opts.outDir, { recursive: true });
  const show = (p: string) => {
    const rel = relative(Deno.cwd(), p);
    return rel.startsWith("..") ? p : rel;
  };
  const bundleFile = join(opts.outDir, "safekit.bundle.js");
  await bundleApp({ entry: opts.entry, outFile: bundleFile, minify: opts.minify });
  console.log(`bundle: ${show(bundleFile)}`);

  const host = Deno.build.target;
  const rows: TargetResult[] = [];
  let hostCompiled: string | null = null;
  let hostCompileProblem = opts.onlyFallback
    ? "not attempted, --only-fallback"
    : "not attempted, not a --target";
  for (const target of opts.targets) {
    if (opts.onlyFallback) {
      if (target !== host) rows.push({ target, result: "skipped", detail: "--only-fallback" });
      continue;
    }
    console.log(`compile: ${target} ...`);
    const outFile = join(opts.outDir, outputName(target));
    const outcome = await compileTarget({
      target,
      entry: opts.entry,
      outFile,
      cwd: REPO_ROOT,
      timeoutSeconds: opts.timeoutSeconds,
      // DENORT_BIN is one binary for one platform: giving it to the other targets would build broken files.
      denortBin: target === host ? opts.denortBin : undefined,
    });
    let problem = outcome.ok ? (target === host ? await hostBinaryProblem(outFile) : null) : outcome.reason;
    if (outcome.ok && problem) await Deno.remove(outFile).catch(() => {});
    if (outcome.ok && !problem) {
      if (target === host) hostCompiled = outFile;
      rows.push({ target, result: "compiled", detail: `${show(outFile)} ${megabytes(outcome.bytes)}` });
    } else if (target === host) {
      hostCompileProblem = problem ??= "unknown";
    } else {
      rows.push({ target, result: "failed", detail: problem ?? "unknown" });
    }
  }

  const single = join(opts.outDir, "safekit");
  if (hostCompiled) {
    await Deno.copyFile(hostCompiled, single);
    return { rows, hostReady: true };
  }
  if (Deno.build.os === "windows") {
    rows.unshift({
      target: host,
      result: "failed",
      detail: `${hostCompileProblem}; no sh fallback on Windows`,
    });
    return { rows, hostReady: false };
  }
  console.log(`fallback: ${show(single)} (deno ${Deno.version.deno} runtime + bundle) ...`);
  const launcher = await writeLauncher({
    runtimePath: Deno.execPath(),
    bundlePath: bundleFile,
    outFile: single,
  });
  rows.unshift({
    target: host,
    result: "fallback",
    detail: `${show(single)} ${
      megabytes(launcher.bytes)
    } [payload ${launcher.hash}] (compile: ${hostCompileProblem})`,
  });
  return { rows, hostReady: true };
}

if (import.meta.main) {
  let opts: BuildOptions;
  try {
    opts = parseOptions(Deno.args);
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : e}`);
    console.error(USAGE);
    Deno.exit(2);
  }
  try {
    const { rows, hostReady } = await build(opts);
    console.log("\n" + formatSummary(rows));
    if (!hostReady) {
      console.error(`error: no single file for this host (${Deno.build.target})`);
      Deno.exit(1);
    }
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
}
