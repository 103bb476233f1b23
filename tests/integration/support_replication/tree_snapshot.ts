// What must be equal between the primary's and the secondary's copy of a replicated directory: for every
// name, its type, mode, and (files) size and content digest or (symlinks) target. Directory sizes and times
// are left out: they are not replicated state.
import { join } from "node:path";

export type EntrySnapshot = {
  type: "file" | "dir" | "symlink" | "other";
  mode: number;
  size?: number;
  digest?: string;
  target?: string;
};

export async function treeSnapshot(root: string): Promise<Record<string, EntrySnapshot>> {
  const out: Record<string, EntrySnapshot> = {};
  const walk = async (dir: string, rel: string) => {
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    for (const name of names.sort()) {
      const path = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = await Deno.lstat(path);
      const mode = (st.mode ?? 0) & 0o7777;
      if (st.isSymlink) out[r] = { type: "symlink", mode: 0, target: await Deno.readLink(path) };
      else if (st.isDirectory) {
        out[r] = { type: "dir", mode };
        await walk(path, r);
      } else if (st.isFile) {
        const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
        out[r] = {
          type: "file",
          mode,
          size: st.size,
          digest: Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join(""),
        };
      } else out[r] = { type: "other", mode };
    }
  };
  await walk(root, "");
  return out;
}

/** Human-readable differences (at most `limit`), empty when the snapshots are equal. */
export function snapshotDiff(
  a: Record<string, EntrySnapshot>,
  b: Record<string, EntrySnapshot>,
  limit = 20,
): string[] {
  const diffs: string[] = [];
  for (const name of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    const x = JSON.stringify(a[name] ?? null), y = JSON.stringify(b[name] ?? null);
    if (x !== y) diffs.push(`${name}: primary ${x} / secondary ${y}`);
    if (diffs.length >= limit) break;
  }
  return diffs;
}
