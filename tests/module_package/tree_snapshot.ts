// A listing of a directory tree with kinds, modes and contents, for asserting that an operation
// left a tree exactly as it was (hidden siblings included).

import { join } from "node:path";

export type TreeSnapshotItem = {
  readonly path: string;
  readonly kind: "file" | "dir" | "symlink" | "other";
  readonly mode: number;
  readonly content?: string;
};

export async function snapshotTree(root: string): Promise<TreeSnapshotItem[]> {
  const items: TreeSnapshotItem[] = [];
  const walk = async (relative: string) => {
    const names: string[] = [];
    for await (const e of Deno.readDir(join(root, relative))) names.push(e.name);
    for (const name of names.sort()) {
      const path = relative === "" ? name : `${relative}/${name}`;
      const info = await Deno.lstat(join(root, path));
      const mode = (info.mode ?? 0) & 0o7777;
      if (info.isDirectory) {
        items.push({ path, kind: "dir", mode });
        await walk(path);
      } else if (info.isFile) {
        const bytes = await Deno.readFile(join(root, path));
        items.push({ path, kind: "file", mode, content: Array.from(bytes, (b) => b.toString(16)).join(",") });
      } else {
        items.push({ path, kind: info.isSymlink ? "symlink" : "other", mode });
      }
    }
  };
  await walk("");
  return items;
}

/** Writes `files` (path -> [content, mode]) under `root`. */
export async function writeTree(
  root: string,
  files: Record<string, readonly [string | Uint8Array, number]>,
): Promise<void> {
  for (const [path, [content, mode]] of Object.entries(files)) {
    const full = join(root, ...path.split("/"));
    await Deno.mkdir(join(full, ".."), { recursive: true });
    const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
    await Deno.writeFile(full, bytes);
    await Deno.chmod(full, mode);
  }
}
