// Installs the tree of a read `.safe` archive as SAFE/modules/AM (spec §3.5, `safekit module
// install [-r]`). The tree is written in full beside the target and only then renamed into
// place, so whatever fails, the node holds either its old tree or the new one, never a mix.
//
// Two fixed sibling names make an interrupted install recoverable at the next attempt:
//   .AM.installing  the new tree being written (removed: it was never in place)
//   .AM.replaced    the old tree during a reinstall (put back if the new one never arrived)
// Module commands are serialised per module by the node service, so one install at a time
// uses these names.

import { basename, dirname, join, resolve } from "node:path";
import { checkEntryName } from "./entry_name.ts";
import { ModuleTreeError } from "./module_tree_error.ts";
import type { SafeArchive, SafeArchiveEntry } from "./read_safe_archive.ts";

export type InstallModuleTreeOptions = {
  /** `safekit module install -r`: replace an existing tree. */
  readonly reinstall?: boolean;
};

const canChmod = Deno.build.os !== "windows";

export async function installModuleTree(
  archive: SafeArchive,
  targetDir: string,
  options: InstallModuleTreeOptions = {},
): Promise<void> {
  const target = resolve(targetDir);
  const parent = dirname(target);
  const staging = join(parent, `.${basename(target)}.installing`);
  const replaced = join(parent, `.${basename(target)}.replaced`);
  const fail = (error: unknown) =>
    new ModuleTreeError(
      "install_failed",
      target,
      `cannot install module tree into '${target}': ${errorText(error)} (the node is unchanged)`,
      { cause: error },
    );

  checkArchivePaths(archive, target);
  await Deno.mkdir(parent, { recursive: true });
  await recoverInterruptedInstall(target, staging, replaced);

  const existing = await lstatOrNull(target);
  if (existing && !existing.isDirectory) {
    throw new ModuleTreeError(
      "not_a_directory",
      target,
      `cannot install module tree into '${target}': it exists and is not a directory`,
    );
  }
  if (existing && !options.reinstall) {
    throw new ModuleTreeError(
      "target_exists",
      target,
      `cannot install module tree into '${target}': it already exists (use -r to reinstall)`,
    );
  }

  try {
    await writeTree(archive, staging);
  } catch (error) {
    await removeIfPresent(staging);
    throw fail(error);
  }

  if (!existing) {
    try {
      await Deno.rename(staging, target);
    } catch (error) {
      await removeIfPresent(staging);
      throw fail(error);
    }
  } else {
    await Deno.rename(target, replaced).catch(async (error) => {
      await removeIfPresent(staging);
      throw fail(error);
    });
    try {
      await Deno.rename(staging, target);
    } catch (error) {
      await Deno.rename(replaced, target);
      await removeIfPresent(staging);
      throw fail(error);
    }
  }
  await syncDir(parent);
  // The new tree is in place: losing the old one now is what the caller asked for.
  await removeIfPresent(replaced);
}

/** Undoes what a crash in the middle of an earlier install left behind. */
async function recoverInterruptedInstall(target: string, staging: string, replaced: string): Promise<void> {
  await removeIfPresent(staging);
  if (await lstatOrNull(replaced)) {
    if (await lstatOrNull(target)) await removeIfPresent(replaced);
    else await Deno.rename(replaced, target);
  }
}

/**
 * A SafeArchive may come from elsewhere than readSafeArchive: its paths are checked again before
 * any is joined to a directory on the node.
 */
function checkArchivePaths(archive: SafeArchive, target: string): void {
  for (const entry of archive.entries) {
    const verdict = checkEntryName(entry.path, new TextEncoder().encode(entry.path).length);
    if (!verdict.ok || verdict.endsWithSlash || verdict.path !== entry.path) {
      const reason = verdict.ok ? "is not a normalised relative path" : verdict.reason;
      throw new ModuleTreeError(
        "bad_archive",
        target,
        `cannot install module tree into '${target}': entry '${entry.path}' ${reason}`,
      );
    }
  }
}

async function writeTree(archive: SafeArchive, root: string): Promise<void> {
  // Directories stay owner-writable while they are filled; their modes are set at the end.
  await Deno.mkdir(root, { mode: 0o700 });
  const dirModes = new Map<string, number>([[root, 0o755]]);
  const ensureParents = async (path: string) => {
    for (let dir = dirname(path); !dirModes.has(dir); dir = dirname(dir)) {
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
      dirModes.set(dir, 0o755);
    }
  };
  for (const entry of archive.entries) {
    const path = join(root, ...entry.path.split("/"));
    await ensureParents(path);
    if (entry.kind === "dir") {
      await Deno.mkdir(path, { recursive: true, mode: 0o700 });
      // Owner rwx kept: the node service must be able to replace or remove the tree later.
      dirModes.set(path, entry.mode | 0o700);
    } else {
      await writeFileSynced(path, fileBytes(entry), entry.mode);
    }
  }
  // Deepest first, so no directory is closed to its owner before its children are done.
  const dirs = [...dirModes.keys()].sort((a, b) => b.length - a.length);
  for (const dir of dirs) {
    if (canChmod) await Deno.chmod(dir, dirModes.get(dir)!);
    await syncDir(dir);
  }
}

function fileBytes(entry: SafeArchiveEntry): Uint8Array {
  if (!entry.bytes) throw new Error(`file entry '${entry.path}' has no content`);
  return entry.bytes;
}

async function writeFileSynced(path: string, bytes: Uint8Array, mode: number): Promise<void> {
  // createNew: two entries for one file is an error, never a silent overwrite.
  const file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
  try {
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.sync();
  } finally {
    file.close();
  }
  // chmod, not the open mode: the process umask would otherwise strip bits the archive keeps.
  if (canChmod) await Deno.chmod(path, mode);
}

async function syncDir(dir: string): Promise<void> {
  if (!canChmod) return; // Windows cannot open a directory to flush it.
  const handle = await Deno.open(dir, { read: true });
  try {
    await handle.sync();
  } finally {
    handle.close();
  }
}

async function lstatOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

async function removeIfPresent(path: string): Promise<void> {
  try {
    await Deno.remove(path, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
