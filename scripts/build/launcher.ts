// The fallback for an offline `deno compile`: one self-extracting file = a POSIX sh header (launcher_header.sh)
// followed by tar.gz(deno runtime, app bundle). See docs/build.md.
import { gzipSync } from "node:zlib";
import { tarArchive } from "./tar_writer.ts";
import headerTemplate from "./launcher_header.sh" with { type: "text" };

/** Names inside the payload; the header refers to the same names. */
export const RUNTIME_NAME = "deno";
export const BUNDLE_NAME = "safekit.bundle.js";

export type PayloadFacts = { readonly hash: string; readonly denoSize: number; readonly bundleSize: number };

/**
 * Fills the header template. The payload starts on the line after the header, so the line number is counted
 * from the rendered text rather than written by hand (replacing placeholders never adds a line).
 */
export function renderLauncherHeader(template: string, facts: PayloadFacts): string {
  if (!template.endsWith("\n")) throw new Error("launcher header template must end with a newline");
  if (!/^[0-9a-f]{8,64}$/.test(facts.hash)) {
    throw new Error(`payload hash '${facts.hash}' is not lowercase hex`);
  }
  const lines = template.split("\n").length - 1;
  const values: Record<string, string> = {
    PAYLOAD_LINE: String(lines + 1),
    PAYLOAD_HASH: facts.hash,
    DENO_SIZE: String(facts.denoSize),
    BUNDLE_SIZE: String(facts.bundleSize),
  };
  const text = template.replace(/@([A-Z_]+)@/g, (whole, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`launcher header template: unknown placeholder ${whole}`);
    return value;
  });
  return text;
}

/** The gzip-compressed tar of the runtime and the bundle, and the facts the header needs about it. */
export async function launcherPayload(
  runtime: Uint8Array,
  bundle: Uint8Array,
): Promise<{ payload: Uint8Array; facts: PayloadFacts }> {
  const tar = tarArchive([
    { name: RUNTIME_NAME, mode: 0o755, data: runtime },
    { name: BUNDLE_NAME, mode: 0o644, data: bundle },
  ]);
  const payload = new Uint8Array(gzipSync(tar, { level: 6 }));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", payload));
  const hash = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("").slice(0, 16);
  return { payload, facts: { hash, denoSize: runtime.length, bundleSize: bundle.length } };
}

/** Writes the single file (tmp + rename, mode 0755) and returns its size and payload hash. */
export async function writeLauncher(
  opts: { runtimePath: string; bundlePath: string; outFile: string },
): Promise<{ bytes: number; hash: string }> {
  const { payload, facts } = await launcherPayload(
    await Deno.readFile(opts.runtimePath),
    await Deno.readFile(opts.bundlePath),
  );
  const header = new TextEncoder().encode(renderLauncherHeader(headerTemplate, facts));
  const file = new Uint8Array(header.length + payload.length);
  file.set(header, 0);
  file.set(payload, header.length);
  const tmp = `${opts.outFile}.tmp-${Deno.pid}`;
  await Deno.writeFile(tmp, file, { mode: 0o755 });
  await Deno.chmod(tmp, 0o755); // the mode option is masked by umask
  await Deno.rename(tmp, opts.outFile);
  return { bytes: file.length, hash: facts.hash };
}
