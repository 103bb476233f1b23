// Reads a `.safe` module archive (spec §1.1, §1.3): a zip holding conf/userconfig.xml, bin/
// scripts, optionally web/ and conf/modulekey.*. The archive is hostile until proven otherwise:
// every entry's name, type and declared size is checked before a single byte is inflated, and
// the bytes are counted again while they are inflated.

import { type Entry, Uint8ArrayReader, ZipReader } from "@zip.js/zip.js";
import {
  declaredSizeViolation,
  DEFAULT_SAFE_ARCHIVE_LIMITS,
  type SafeArchiveLimits,
} from "./archive_limits.ts";
import { entryFileType } from "./entry_file_type.ts";
import { ancestorsOf, checkEntryName, collisionKey } from "./entry_name.ts";
import { METHOD_DEFLATE, METHOD_STORED, readEntryContent } from "./read_entry_content.ts";
import { SafeArchiveError } from "./safe_archive_error.ts";

export type SafeArchiveEntry = {
  /** Relative to the module directory, `/`-separated, no trailing slash. */
  readonly path: string;
  readonly kind: "file" | "dir";
  /** Permission bits only (no file type), already stripped of setuid/setgid/sticky and o+w. */
  readonly mode: number;
  /** The content of a file entry; absent for a directory. */
  readonly bytes?: Uint8Array;
};

export type SafeArchive = {
  readonly entries: ReadonlyArray<SafeArchiveEntry>;
  readonly userconfigXml: string;
};

export type ReadSafeArchiveOptions = Partial<SafeArchiveLimits> & {
  /** How messages name the archive, e.g. `mirror.safe`. */
  readonly name?: string;
  /** Checks conf/userconfig.xml; throws to reject it (e.g. the config parser). */
  readonly validateUserconfig?: (xml: string) => void;
};

export const USERCONFIG_PATH = "conf/userconfig.xml";
const ZIP_FLAG_ENCRYPTED = 0x1;

type PlannedEntry = {
  readonly zipEntry: Entry;
  readonly name: string;
  readonly path: string;
  readonly kind: "file" | "dir";
  readonly mode: number;
};

export async function readSafeArchive(
  bytes: Uint8Array,
  options: ReadSafeArchiveOptions = {},
): Promise<SafeArchive> {
  const archive = options.name ?? "(unnamed)";
  const limits: SafeArchiveLimits = { ...DEFAULT_SAFE_ARCHIVE_LIMITS, ...definedLimits(options) };
  const zip = new ZipReader(new Uint8ArrayReader(bytes), {
    useWebWorkers: false,
    // Names are judged below, each refusal with its own code; zip.js would give one for all.
    filenameValidation: "tolerant",
  });
  try {
    const zipEntries = await listEntries(zip, archive, limits);
    const planned = planEntries(zipEntries, archive, limits);
    const entries: SafeArchiveEntry[] = [];
    let total = 0;
    for (const p of planned) {
      if (p.kind === "dir" || p.zipEntry.directory) {
        entries.push({ path: p.path, kind: "dir", mode: p.mode });
        continue;
      }
      const content = await readEntryContent(p.zipEntry, { archive, limits, totalBefore: total });
      total += content.length;
      entries.push({ path: p.path, kind: "file", mode: p.mode, bytes: content });
    }
    const userconfigXml = readUserconfig(entries, archive, options.validateUserconfig);
    return { entries, userconfigXml };
  } finally {
    await zip.close();
  }
}

function definedLimits(options: ReadSafeArchiveOptions): Partial<SafeArchiveLimits> {
  const out: Record<string, number> = {};
  for (const key of Object.keys(DEFAULT_SAFE_ARCHIVE_LIMITS) as (keyof SafeArchiveLimits)[]) {
    const value = options[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

async function listEntries(
  zip: ZipReader<unknown>,
  archive: string,
  limits: SafeArchiveLimits,
): Promise<Entry[]> {
  const entries: Entry[] = [];
  try {
    // The generator parses one central directory record at a time: a forged count of millions
    // of entries is stopped at the limit, not after parsing them all.
    for await (const entry of zip.getEntriesGenerator()) {
      if (entries.length === limits.maxEntries) {
        throw new SafeArchiveError(
          "too_many_entries",
          archive,
          `holds more than ${limits.maxEntries} entries (the most a module archive may hold)`,
        );
      }
      entries.push(entry);
    }
  } catch (error) {
    if (error instanceof SafeArchiveError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    if (/encrypted/i.test(message)) {
      throw new SafeArchiveError("encrypted", archive, `has an encrypted central directory`, undefined, {
        cause: error,
      });
    }
    throw new SafeArchiveError("not_zip", archive, `is not a readable zip archive: ${message}`, undefined, {
      cause: error,
    });
  }
  return entries;
}

/** Every check that needs no inflating, in archive order; the first failure is thrown. */
function planEntries(
  zipEntries: readonly Entry[],
  archive: string,
  limits: SafeArchiveLimits,
): PlannedEntry[] {
  const planned: PlannedEntry[] = [];
  let declaredTotal = 0;
  for (const zipEntry of zipEntries) {
    const name = zipEntry.filename;
    const verdict = checkEntryName(name, Math.max(zipEntry.rawFilename.length, utf8Length(name)));
    if (!verdict.ok) throw new SafeArchiveError(verdict.code, archive, verdict.reason, name);
    if (zipEntry.encrypted || ((zipEntry.rawBitFlag ?? 0) & ZIP_FLAG_ENCRYPTED) !== 0) {
      throw new SafeArchiveError("encrypted", archive, "is encrypted (module archives must not be)", name);
    }
    const type = entryFileType(
      zipEntry.versionMadeBy,
      zipEntry.externalFileAttributes,
      verdict.endsWithSlash,
      verdict.path,
    );
    if (!type.ok) throw new SafeArchiveError(type.code, archive, type.reason, name);
    // zip.js also reads modes from extra fields and MS-DOS attributes: whichever says
    // symlink or directory wins, so both readings of the entry agree.
    if (zipEntry.symlink) {
      throw new SafeArchiveError(
        "symlink",
        archive,
        "is a symbolic link (only regular files and directories)",
        name,
      );
    }
    const kind = type.kind === "dir" || zipEntry.directory ? "dir" : "file";
    const mode = kind === type.kind ? type.mode : 0o755;
    if (kind === "dir") {
      if (zipEntry.uncompressedSize !== 0 || zipEntry.compressedSize > 2) {
        throw new SafeArchiveError(
          "corrupt",
          archive,
          `is a directory but carries ${zipEntry.uncompressedSize} bytes of data`,
          name,
        );
      }
    } else {
      const method = zipEntry.compressionMethod;
      if (method !== METHOD_STORED && method !== METHOD_DEFLATE) {
        throw new SafeArchiveError(
          "unsupported_compression",
          archive,
          `uses compression method ${method} (only 0 stored and 8 deflate)`,
          name,
        );
      }
      const declared = { uncompressed: zipEntry.uncompressedSize, compressed: zipEntry.compressedSize };
      const violation = declaredSizeViolation(declared, declaredTotal, limits);
      if (violation) throw new SafeArchiveError(violation.code, archive, violation.reason, name);
      declaredTotal += declared.uncompressed;
    }
    planned.push({ zipEntry, name, path: verdict.path, kind, mode });
  }
  checkCollisions(planned, archive);
  return planned;
}

type Occupant = { readonly name: string; readonly kind: "file" | "dir"; readonly explicit: boolean };

/**
 * Two entries must never land on the same file, on any file system a node may use: not twice
 * the same name, not names differing by case, Unicode normalisation or a trailing slash, not a
 * file where another entry needs a directory.
 */
function checkCollisions(planned: readonly PlannedEntry[], archive: string): void {
  const seen = new Map<string, Occupant>();
  const duplicate = (name: string, reason: string) =>
    new SafeArchiveError("duplicate_name", archive, reason, name);
  for (const p of planned) {
    for (const ancestor of ancestorsOf(p.path)) {
      const key = collisionKey(ancestor);
      const occupant = seen.get(key);
      if (occupant?.kind === "file") {
        throw duplicate(
          p.name,
          `needs '${ancestor}' to be a directory, but entry '${occupant.name}' is a file of that name`,
        );
      }
      if (!occupant) seen.set(key, { name: `${ancestor}/`, kind: "dir", explicit: false });
    }
    const key = collisionKey(p.path);
    const occupant = seen.get(key);
    if (occupant?.explicit) {
      if (occupant.name === p.name) throw duplicate(p.name, "appears twice in the archive");
      if (occupant.kind !== p.kind) {
        throw duplicate(
          p.name,
          `is a ${kindWord(p.kind)} but entry '${occupant.name}' is a ${
            kindWord(occupant.kind)
          } of the same name`,
        );
      }
      throw duplicate(
        p.name,
        `collides with entry '${occupant.name}' (names differing only by letter case, Unicode ` +
          `normalisation or a trailing slash are the same file on some file systems)`,
      );
    }
    if (occupant && p.kind === "file") {
      throw duplicate(
        p.name,
        `is a file but other entries lie beneath it as a directory ('${occupant.name}')`,
      );
    }
    seen.set(key, { name: p.name, kind: p.kind, explicit: true });
  }
}

function kindWord(kind: "file" | "dir"): string {
  return kind === "dir" ? "directory" : "file";
}

function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

function readUserconfig(
  entries: readonly SafeArchiveEntry[],
  archive: string,
  validate: ((xml: string) => void) | undefined,
): string {
  const entry = entries.find((e) => e.path === USERCONFIG_PATH);
  if (!entry || entry.kind !== "file" || !entry.bytes) {
    const why = entry ? `${USERCONFIG_PATH} is a directory` : `has no ${USERCONFIG_PATH}`;
    throw new SafeArchiveError(
      "missing_userconfig",
      archive,
      `${why} (every module needs its configuration)`,
    );
  }
  let xml: string;
  try {
    xml = new TextDecoder("utf-8", { fatal: true }).decode(entry.bytes);
  } catch (error) {
    throw new SafeArchiveError("invalid_userconfig", archive, "is not valid UTF-8", USERCONFIG_PATH, {
      cause: error,
    });
  }
  if (xml.trim() === "") {
    throw new SafeArchiveError("invalid_userconfig", archive, "is empty", USERCONFIG_PATH);
  }
  if (validate) {
    try {
      validate(xml);
    } catch (error) {
      const inner = error instanceof Error ? error.message : String(error);
      throw new SafeArchiveError("invalid_userconfig", archive, `is invalid: ${inner}`, USERCONFIG_PATH, {
        cause: error,
      });
    }
  }
  return xml;
}
