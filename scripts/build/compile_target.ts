// One `deno compile` per target, time-limited, with its failure put into one line a release manager can act on.
import { basename, dirname, join } from "node:path";

export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-pc-windows-msvc",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
] as const;

/**
 * Only reachable npm packages go in (not the whole node_modules, which holds test-only packages such as
 * playwright): deno-stack-verification §4 measured 1.3 MB of files this way against 75 MB by default.
 */
export const COMPILE_FLAGS = ["-A", "--node-modules-dir=none", "--exclude-unused-npm"] as const;

export type CompileOutcome =
  | { readonly ok: true; readonly outFile: string; readonly bytes: number }
  | { readonly ok: false; readonly reason: string };

export function outputName(target: string): string {
  return `safekit-${target}${target.includes("windows") ? ".exe" : ""}`;
}

/** One line saying why a compile failed, from deno's stderr (colour codes already off). */
export function classifyCompileFailure(
  stderr: string,
  facts: { timedOut: boolean; timeoutSeconds: number; target: string; denoVersion: string; isHost: boolean },
): string {
  const runtimeZip = `$DENO_DIR/dl/release/v${facts.denoVersion}/denort-${facts.target}.zip`;
  if (facts.timedOut) {
    return `timed out after ${facts.timeoutSeconds}s (fetching the denort runtime hanging?); provide ${runtimeZip}`;
  }
  const settingUpBase = /Setting up base binary/i.test(stderr);
  const network = /error sending request|dns error|Connect|connection refused|timed out|certificate/i.test(
    stderr,
  );
  if (settingUpBase && network) {
    return `denort runtime unreachable (download failed); provide ${runtimeZip}${
      facts.isHost ? " or DENORT_BIN" : ""
    }`;
  }
  if (settingUpBase) {
    const cause = stderr.split("\n").map((l) => l.trim()).find((l) =>
      /^\d+: /.test(l) && !/base binary/i.test(l)
    );
    return `cannot set up the denort runtime${cause ? `: ${cause.replace(/^\d+: /, "")}` : ""}`;
  }
  const error = stderr.split("\n").map((l) => l.trim()).find((l) => l.startsWith("error:"));
  return error ?? (stderr.trim().split("\n").pop() || "deno compile failed with no message");
}

/** Runs deno compile for one target; DENORT_BIN is passed only when `denortBin` is given. */
export async function compileTarget(opts: {
  target: string;
  entry: string;
  outFile: string;
  cwd: string;
  timeoutSeconds: number;
  denortBin?: string;
}): Promise<CompileOutcome> {
  const env: Record<string, string> = { ...Deno.env.toObject(), NO_COLOR: "1" };
  delete env.DENORT_BIN;
  if (opts.denortBin) env.DENORT_BIN = opts.denortBin;
  const args = ["compile", ...COMPILE_FLAGS, "--target", opts.target, "-o", opts.outFile, opts.entry];
  const signal = AbortSignal.timeout(opts.timeoutSeconds * 1000);
  const facts = {
    timedOut: false,
    timeoutSeconds: opts.timeoutSeconds,
    target: opts.target,
    denoVersion: Deno.version.deno,
    isHost: opts.target === Deno.build.target,
  };
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: opts.cwd,
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal,
    }).output();
  } catch (e) {
    await removeCompileLeftovers(opts.outFile);
    if (signal.aborted) {
      return { ok: false, reason: classifyCompileFailure("", { ...facts, timedOut: true }) };
    }
    return { ok: false, reason: `cannot run deno compile: ${e instanceof Error ? e.message : e}` };
  }
  if (out.success) {
    const bytes = (await Deno.stat(opts.outFile)).size;
    return { ok: true, outFile: opts.outFile, bytes };
  }
  await removeCompileLeftovers(opts.outFile);
  const stderr = new TextDecoder().decode(out.stderr);
  return { ok: false, reason: classifyCompileFailure(stderr, { ...facts, timedOut: signal.aborted }) };
}

/** A failed or killed compile leaves its `<out>.tmp-<hex>` file behind. */
async function removeCompileLeftovers(outFile: string): Promise<void> {
  const dir = dirname(outFile);
  const prefix = `${basename(outFile)}.tmp-`;
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.startsWith(prefix)) {
      await Deno.remove(join(dir, entry.name)).catch(() => {});
    }
  }
}
