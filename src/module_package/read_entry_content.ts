// Reads one file entry of a module archive through our own inflater and byte counter. zip.js
// only hands over the stored bytes (`passThrough`): left to itself it inflates a lying entry to
// the end before it notices, which for a 300 MiB bomb costs seconds of CPU; here the inflater is
// cancelled within a few MiB of a limit.

import type { FileEntry } from "@zip.js/zip.js";
import { InflationGuard, type SafeArchiveLimits } from "./archive_limits.ts";
import { CRC32_START, crc32Final, crc32Update } from "./crc32.ts";
import { SafeArchiveError } from "./safe_archive_error.ts";

export const METHOD_STORED = 0;
export const METHOD_DEFLATE = 8;

export type EntryReadContext = {
  readonly archive: string;
  readonly limits: SafeArchiveLimits;
  /** Bytes inflated so far from the entries read before this one. */
  readonly totalBefore: number;
};

/** An error zip.js raises while locating or copying the entry's data, as our own. */
export function zipLibraryError(archive: string, entry: string, error: unknown): SafeArchiveError {
  const e = error as { message?: string; reason?: string };
  const detail = `${e.message ?? String(error)}${e.reason ? ` (${e.reason})` : ""}`;
  return new SafeArchiveError("corrupt", archive, `cannot be read: ${detail}`, entry, { cause: error });
}

export async function readEntryContent(entry: FileEntry, context: EntryReadContext): Promise<Uint8Array> {
  const { archive } = context;
  const name = entry.filename;
  const declared = { uncompressed: entry.uncompressedSize, compressed: entry.compressedSize };
  const guard = new InflationGuard(declared, context.totalBefore, context.limits);
  const inflater = entry.compressionMethod === METHOD_DEFLATE
    ? guardedInflater()
    : new TransformStream<Uint8Array, Uint8Array>();

  const reader = inflater.readable.getReader();
  // The stored bytes: zip.js checks that the local header agrees with the central directory
  // (a streaming extractor would trust the local one) and that entries do not overlap.
  const copying: Promise<unknown> = entry.getData(inflater.writable, {
    passThrough: true,
    checkLocalDirectory: true,
    checkLocalFilename: true,
    checkOverlappingEntry: true,
  }).then(() => undefined, (error: unknown) => {
    // zip.js may fail before it ever touches the stream: end the read loop below.
    reader.cancel(error).catch(() => {});
    return error ?? new Error("copy failed");
  });
  const parts: Uint8Array[] = [];
  let crc = CRC32_START;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const violation = guard.add(value.length);
      if (violation) throw new SafeArchiveError(violation.code, archive, violation.reason, name);
      crc = crc32Update(crc, value);
      parts.push(value);
    }
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    const copyError = await copying;
    if (error instanceof SafeArchiveError) throw error;
    // When the copy fails the inflater fails too; zip.js knows why, the inflater does not.
    if (copyError !== undefined) throw zipLibraryError(archive, name, copyError);
    throw new SafeArchiveError("corrupt", archive, `has invalid compressed data: ${errorText(error)}`, name, {
      cause: error,
    });
  }
  const copyError = await copying;
  if (copyError !== undefined) throw zipLibraryError(archive, name, copyError);
  const shortfall = guard.finish();
  if (shortfall) throw new SafeArchiveError(shortfall.code, archive, shortfall.reason, name);
  const actualCrc = crc32Final(crc);
  const storedCrc = entry.crc32 ?? 0;
  if (actualCrc !== storedCrc) {
    throw new SafeArchiveError(
      "corrupt",
      archive,
      `fails its CRC-32 check (stored ${hex(storedCrc)}, computed ${hex(actualCrc)})`,
      name,
    );
  }
  return concatBytes(parts, guard.entryBytes);
}

// DEFLATE expands at most about 1032:1, and the native inflater turns a whole input chunk into
// output before anyone can say stop: compressed input is fed to it in small slices, so one step
// yields at most about 4 MiB however the archive is built.
const INFLATE_INPUT_SLICE = 4096;

function guardedInflater(): { writable: WritableStream<Uint8Array>; readable: ReadableStream<Uint8Array> } {
  const slicer = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      for (let at = 0; at < chunk.length; at += INFLATE_INPUT_SLICE) {
        controller.enqueue(chunk.subarray(at, at + INFLATE_INPUT_SLICE));
      }
    },
  });
  const inflate = new DecompressionStream("deflate-raw") as unknown as TransformStream<
    Uint8Array,
    Uint8Array
  >;
  return { writable: slicer.writable, readable: slicer.readable.pipeThrough(inflate) };
}

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, "0")}`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function concatBytes(parts: readonly Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
