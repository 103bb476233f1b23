// Packs a module tree (SAFE/modules/AM) into a `.safe` archive, as `safekit module package` and
// `safekit -E` do (spec §3.5). The same tree always gives the same bytes: entries are sorted and
// timestamps fixed, so a configuration can be compared or hashed by its archive.

import { join } from "node:path";
import { Uint8ArrayReader, Uint8ArrayWriter, ZipWriter } from "@zip.js/zip.js";
import { ModuleTreeError } from "./module_tree_error.ts";
import { USERCONFIG_PATH } from "./read_safe_archive.ts";

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

// Local time on purpose: zip stores MS-DOS local date fields, so this is 2000-01-01 00:00 in
// the archive whatever the node's time zone, and archives stay byte-equal across nodes.
const FIXED_DATE = new Date(2000, 0, 1, 0, 0, 0);

type TreeItem = { readonly path: string; readonly kind: "file" | "dir"; readonly mode: number };

export async function packageModuleDir(dir: string): Promise<Uint8Array> {
  const top = await Deno.lstat(dir).catch((error) => {
    throw new ModuleTreeError(
      "not_a_directory",
      dir,
      `cannot package module tree '${dir}': ${errorText(error)}`,
      {
        cause: error,
      },
    );
  });
  if (!top.isDirectory) {
    throw new ModuleTreeError("not_a_directory", dir, `cannot package module tree '${dir}': not a directory`);
  }
  const items = await listTree(dir, "");
  if (!items.some((i) => i.path === USERCONFIG_PATH && i.kind === "file")) {
    throw new ModuleTreeError(
      "missing_userconfig",
      dir,
      `cannot package module tree '${dir}': it has no ${USERCONFIG_PATH} (every module needs its configuration)`,
    );
  }
  const writer = new ZipWriter(new Uint8ArrayWriter(), {
    useWebWorkers: false,
    lastModDate: FIXED_DATE,
    extendedTimestamp: false,
    keepOrder: true,
    dataDescriptor: false,
  });
  for (const item of items) {
    if (item.kind === "dir") {
      await writer.add(`${item.path}/`, undefined, { directory: true, unixMode: S_IFDIR | item.mode });
    } else {
      const bytes = await Deno.readFile(join(dir, item.path));
      await writer.add(item.path, new Uint8ArrayReader(bytes), { unixMode: S_IFREG | item.mode });
    }
  }
  return await writer.close();
}

/** Depth first, siblings sorted by name, so the order never depends on the file system. */
async function listTree(root: string, relative: string): Promise<TreeItem[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(join(root, relative))) names.push(entry.name);
  names.sort();
  const items: TreeItem[] = [];
  for (const name of names) {
    const path = relative === "" ? name : `${relative}/${name}`;
    const info = await Deno.lstat(join(root, path));
    if (info.isSymlink) {
      throw new ModuleTreeError(
        "symlink",
        root,
        `cannot package module tree '${root}': '${path}' is a symbolic link (a module holds only regular ` +
          `files and directories; copy the file in instead)`,
      );
    }
    if (info.isDirectory) {
      items.push({ path, kind: "dir", mode: permissions(info, 0o755) });
      items.push(...await listTree(root, path));
    } else if (info.isFile) {
      items.push({ path, kind: "file", mode: permissions(info, 0o644) });
    } else {
      throw new ModuleTreeError(
        "special_file",
        root,
        `cannot package module tree '${root}': '${path}' is not a regular file or directory (device, FIFO or socket)`,
      );
    }
  }
  return items;
}

function permissions(info: Deno.FileInfo, fallback: number): number {
  // Windows has no mode bits: the archive then carries the usual ones.
  return info.mode === null ? fallback : info.mode & 0o777;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
