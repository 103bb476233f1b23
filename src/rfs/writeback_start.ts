// Starting the kernel's writeback while a writer streams a file, instead of leaving every dirty page for its
// final fsync. Replication already spends CPU per byte on both nodes; with the disk idle meanwhile, a
// writer's fsync after a long sequential write then had to wait for the whole flush, after that CPU work
// instead of during it. Once a descriptor has been written sequentially for FLUSH_AFTER_BYTES, that range's
// writeback is started (sync_file_range(SYNC_FILE_RANGE_WRITE): it starts I/O, it waits for nothing), as
// PostgreSQL's *_flush_after settings do. Random writes never start anything: a region rewritten many
// times before an fsync is written to disk once, as before. Durability does not change: only fsync counts.

import { sys } from "./fuse/libc.ts";

export const FLUSH_AFTER_BYTES = 8 << 20;
const SYNC_FILE_RANGE_WRITE = 2;

export type ByteRange = { readonly offset: number; readonly length: number };

/** Per descriptor, the sequential run being written and not yet handed to writeback (pure). */
export class SequentialRuns {
  private readonly runs = new Map<number, { start: number; end: number }>();

  constructor(private readonly flushAfter = FLUSH_AFTER_BYTES) {}

  /** A write of `length` bytes at `offset` on `fd`: the range whose writeback to start now, if any. */
  note(fd: number, offset: number, length: number): ByteRange | null {
    const run = this.runs.get(fd);
    if (run === undefined || offset !== run.end) {
      this.runs.set(fd, { start: offset, end: offset + length });
      return length >= this.flushAfter ? this.take(fd) : null;
    }
    run.end += length;
    return run.end - run.start >= this.flushAfter ? this.take(fd) : null;
  }

  /** The descriptor is closed (its number may be reused for another file). */
  forget(fd: number): void {
    this.runs.delete(fd);
  }

  private take(fd: number): ByteRange {
    const run = this.runs.get(fd)!;
    const range = { offset: run.start, length: run.end - run.start };
    run.start = run.end;
    return range;
  }
}

/**
 * Starts writeback of `range` of `fd` on a worker thread; never waits and ignores errors (a file system
 * without it, a descriptor closed meanwhile: writeback is only advice, the data is written either way).
 */
export function startWriteback(fd: number, range: ByteRange): void {
  sys.syncFileRangeAsync(fd, BigInt(range.offset), BigInt(range.length), SYNC_FILE_RANGE_WRITE).catch(
    () => {},
  );
}
