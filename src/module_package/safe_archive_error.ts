// The one error type of reading a `.safe` archive. Every rejection has its own code, so callers
// and tests can tell a path traversal from a zip bomb, and a message that names the archive and
// the entry, so the operator knows which file to fix or distrust.

export type SafeArchiveErrorCode =
  | "not_zip"
  | "corrupt"
  | "encrypted"
  | "unsupported_compression"
  | "bad_name"
  | "absolute_path"
  | "path_traversal"
  | "duplicate_name"
  | "symlink"
  | "device_file"
  | "too_many_entries"
  | "entry_too_large"
  | "total_too_large"
  | "compression_ratio"
  | "size_mismatch"
  | "missing_userconfig"
  | "invalid_userconfig";

export class SafeArchiveError extends Error {
  readonly code: SafeArchiveErrorCode;
  /** The archive's name as given by the caller, e.g. `mirror.safe`. */
  readonly archive: string;
  /** The entry name as stored in the archive, when one entry is at fault. */
  readonly entry?: string;

  constructor(
    code: SafeArchiveErrorCode,
    archive: string,
    detail: string,
    entry?: string,
    options?: { cause?: unknown },
  ) {
    const subject = entry === undefined ? "" : `entry ${quoteEntryName(entry)} `;
    super(`module archive '${archive}': ${subject}${detail}`, options);
    this.name = "SafeArchiveError";
    this.code = code;
    this.archive = archive;
    this.entry = entry;
  }
}

const MAX_QUOTED_CHARS = 200;
// deno-lint-ignore no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;

/**
 * Quotes an entry name for a message. Names come from a hostile archive: control characters are
 * escaped so a name cannot forge lines in a log, and very long names are cut.
 */
export function quoteEntryName(name: string): string {
  const escaped = name.replace(
    CONTROL_CHARACTERS,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
  const cut = escaped.length > MAX_QUOTED_CHARS
    ? `${escaped.slice(0, MAX_QUOTED_CHARS)}... (${name.length} characters)`
    : escaped;
  return `'${cut}'`;
}
