// Decides whether an entry name from a module archive may become a path under the module
// directory. Pure: the name in, a clean relative path or the precise reason for refusal out.

import type { SafeArchiveErrorCode } from "./safe_archive_error.ts";

export const MAX_ENTRY_NAME_BYTES = 4096;

export type EntryNameVerdict =
  | { readonly ok: true; readonly path: string; readonly endsWithSlash: boolean }
  | { readonly ok: false; readonly code: SafeArchiveErrorCode; readonly reason: string };

function refuse(code: SafeArchiveErrorCode, reason: string): EntryNameVerdict {
  return { ok: false, code, reason };
}

/**
 * `name` is the decoded name, `byteLength` the length of the name as stored (its raw bytes).
 * The path returned has no trailing slash; `endsWithSlash` tells a directory entry by its name.
 */
export function checkEntryName(name: string, byteLength: number): EntryNameVerdict {
  if (byteLength > MAX_ENTRY_NAME_BYTES) {
    return refuse("bad_name", `has a name of ${byteLength} bytes (at most ${MAX_ENTRY_NAME_BYTES})`);
  }
  if (name === "") return refuse("bad_name", "has an empty name");
  if (name.includes("\0")) return refuse("bad_name", "has a NUL byte in its name");
  // deno-lint-ignore no-control-regex
  if (/[\u0001-\u001f\u007f]/.test(name)) return refuse("bad_name", "has a control character in its name");
  // A leading backslash is the root of the current drive on Windows, `C:` a drive.
  if (name.startsWith("/") || name.startsWith("\\") || /^[A-Za-z]:/.test(name)) {
    return refuse("absolute_path", "is an absolute path (names must be relative to the module directory)");
  }
  const endsWithSlash = name.endsWith("/");
  const segments = (endsWithSlash ? name.slice(0, -1) : name).split("/");
  let depth = 0;
  let escapes = false;
  for (const segment of segments) {
    if (segment === "..") {
      depth--;
      if (depth < 0) escapes = true;
    } else depth++;
  }
  if (segments.includes("..")) {
    return refuse(
      "path_traversal",
      escapes ? "escapes the module directory (path traversal)" : "has a '..' segment (path traversal)",
    );
  }
  // On Windows a backslash is a separator, so `..\x` climbs out as surely as `../x`.
  if (name.includes("\\")) {
    return refuse(
      "bad_name",
      name.split(/[\\/]/).includes("..")
        ? "has a backslash '..' segment, a path traversal on Windows"
        : "has a backslash in its name, a path separator on Windows",
    );
  }
  if (segments.includes("")) return refuse("bad_name", "has an empty path segment ('//')");
  if (segments.includes(".")) return refuse("bad_name", "has a '.' path segment");
  // `file:stream` names an NTFS alternate data stream.
  if (name.includes(":")) return refuse("bad_name", "has a ':' in its name, reserved on Windows");
  return { ok: true, path: segments.join("/"), endsWithSlash };
}

/**
 * Two entries with the same key would land on the same file somewhere: on a case-insensitive
 * file system (Windows, macOS), or after Unicode normalisation (macOS).
 */
export function collisionKey(path: string): string {
  return path.normalize("NFC").toLowerCase();
}

/** `a/b/c` -> [`a`, `a/b`]: the directories an entry needs. */
export function ancestorsOf(path: string): string[] {
  const parts = path.split("/");
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join("/"));
}
