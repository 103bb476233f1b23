// Crash-safe file replacement: write a temporary sibling, fsync it, rename over the target, fsync the
// directory. A reader sees the old content or the new one, never a torn file (DESIGN principle 4).
import { dirname, join } from "node:path";

export async function atomicWriteFile(path: string, data: Uint8Array | string, mode?: number): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const dir = dirname(path);
  await Deno.mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${crypto.randomUUID()}.tmp`);
  const file = await Deno.open(tmp, { write: true, createNew: true, mode: mode ?? 0o644 });
  try {
    let off = 0;
    while (off < bytes.length) off += await file.write(bytes.subarray(off));
    await file.sync();
  } finally {
    file.close();
  }
  try {
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  if (Deno.build.os === "windows") return;
  try {
    const d = await Deno.open(dir, { read: true });
    try {
      await d.sync();
    } finally {
      d.close();
    }
  } catch { /* some file systems refuse fsync on directories; the rename is still atomic */ }
}

export async function readTextIfExists(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** The synchronous form, for state that must be on disk before the caller goes on (automaton facts). */
export function atomicWriteFileSync(path: string, data: string, mode = 0o644): void {
  const dir = dirname(path);
  Deno.mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${crypto.randomUUID()}.tmp`);
  const file = Deno.openSync(tmp, { write: true, createNew: true, mode });
  try {
    const bytes = new TextEncoder().encode(data);
    let off = 0;
    while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
    file.syncSync();
  } finally {
    file.close();
  }
  try {
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch { /* gone */ }
    throw e;
  }
}
