// Reads what kind of file an archive entry claims to be, and with which permissions, from the
// zip's "version made by" and external attributes. Only regular files and directories may enter
// a module tree: a symlink could point anywhere on the node, a device file reach the hardware.

import type { SafeArchiveErrorCode } from "./safe_archive_error.ts";

export type EntryFileType =
  | { readonly ok: true; readonly kind: "file" | "dir"; readonly mode: number }
  | { readonly ok: false; readonly code: SafeArchiveErrorCode; readonly reason: string };

const HOST_UNIX = 3;
const HOST_OSX = 19;
const MSDOS_DIRECTORY = 0x10;

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const SPECIAL_TYPES: ReadonlyMap<number, string> = new Map([
  [0o020000, "a character device"],
  [0o060000, "a block device"],
  [0o010000, "a FIFO"],
  [0o140000, "a socket"],
]);

/**
 * Module scripts run as root: a setuid, setgid or sticky bit, or a world-writable script, would
 * let a local user become root, so those bits are dropped whatever the archive says.
 */
export const KEPT_PERMISSION_BITS = 0o775;

/**
 * `versionMadeBy` and `externalAttributes` as stored in the central directory; `endsWithSlash`
 * and `path` from the checked name.
 */
export function entryFileType(
  versionMadeBy: number,
  externalAttributes: number,
  endsWithSlash: boolean,
  path: string,
): EntryFileType {
  const host = versionMadeBy >>> 8;
  const unixBits = externalAttributes >>> 16;
  const hasUnixMode = (host === HOST_UNIX || host === HOST_OSX) && unixBits !== 0;
  if (hasUnixMode) {
    const type = unixBits & S_IFMT;
    if (type === S_IFLNK) {
      return {
        ok: false,
        code: "symlink",
        reason: "is a symbolic link (only regular files and directories)",
      };
    }
    if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) {
      const what = SPECIAL_TYPES.get(type) ?? `of unknown file type 0o${type.toString(8)}`;
      return {
        ok: false,
        code: "device_file",
        reason: `is ${what} (only regular files and directories)`,
      };
    }
    const kind = endsWithSlash || type === S_IFDIR ? "dir" : "file";
    return { ok: true, kind, mode: unixBits & KEPT_PERMISSION_BITS };
  }
  // Written without Unix modes (e.g. on Windows): scripts under bin/ must still run on Linux.
  const isDir = endsWithSlash || (externalAttributes & MSDOS_DIRECTORY) !== 0;
  if (isDir) return { ok: true, kind: "dir", mode: 0o755 };
  return { ok: true, kind: "file", mode: path.startsWith("bin/") ? 0o755 : 0o644 };
}
