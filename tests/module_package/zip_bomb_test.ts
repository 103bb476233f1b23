// A 300 MiB run of zeros deflates to about 300 KB. Such a bomb must be refused before it is
// inflated when its header is honest, and within a few chunks of inflation when it lies.

import assert from "node:assert/strict";
import { readSafeArchive, SafeArchiveError } from "../../src/module_package/mod.ts";
import { goodEntries } from "./fixtures.ts";
import { deflateRaw, forgeZip } from "./zip_forge.ts";

const MiB = 1024 * 1024;
const BOMB_BYTES = 300 * MiB;

// Streamed through the deflater one reused 1 MiB buffer at a time: the test never holds 300 MiB.
const bombPayload = await deflateRaw((function* () {
  const zeros = new Uint8Array(MiB);
  for (let i = 0; i < BOMB_BYTES / MiB; i++) yield zeros;
})());

/** Counts what every DecompressionStream created while `run` runs puts out. */
async function countInflatedBytes(run: () => Promise<void>): Promise<number> {
  const Original = globalThis.DecompressionStream;
  let inflated = 0;
  class CountingDecompressionStream {
    readonly writable: WritableStream;
    readonly readable: ReadableStream<Uint8Array>;
    constructor(format: CompressionFormat) {
      const inner = new Original(format);
      this.writable = inner.writable;
      this.readable = inner.readable.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            inflated += chunk.length;
            controller.enqueue(chunk);
          },
        }),
      );
    }
  }
  globalThis.DecompressionStream = CountingDecompressionStream as unknown as typeof DecompressionStream;
  try {
    await run();
  } finally {
    globalThis.DecompressionStream = Original;
  }
  return inflated;
}

Deno.test("zip bomb: an honest 300 MiB entry is refused from its declared size, inflating nothing", async () => {
  const bytes = await forgeZip([
    ...goodEntries,
    { name: "web/bomb.bin", deflated: bombPayload, declaredUncompressedSize: BOMB_BYTES, crc32: 0 },
  ]);
  assert.ok(bytes.length < 2 * MiB, `the bomb itself is small (${bytes.length} bytes)`);
  const started = performance.now();
  const inflated = await countInflatedBytes(async () => {
    await assert.rejects(readSafeArchive(bytes, { name: "bomb.safe" }), (error: unknown) => {
      assert.ok(error instanceof SafeArchiveError);
      assert.equal(error.code, "entry_too_large");
      assert.equal(
        error.message,
        `module archive 'bomb.safe': entry 'web/bomb.bin' declares ${BOMB_BYTES} bytes (at most 64 MiB per entry)`,
      );
      return true;
    });
  });
  assert.ok(inflated < 64 * 1024, `inflated ${inflated} bytes of the good entries only`);
  assert.ok(performance.now() - started < 2000, "refused quickly");
});

Deno.test("zip bomb: a header lying about its size is stopped within a few chunks of inflation", async () => {
  // Declares 1000 bytes stored in 300 KB: a ratio no check on declared sizes can object to.
  const bytes = await forgeZip([
    ...goodEntries,
    { name: "web/bomb.bin", deflated: bombPayload, declaredUncompressedSize: 1000, crc32: 0 },
  ]);
  const started = performance.now();
  const inflated = await countInflatedBytes(async () => {
    await assert.rejects(readSafeArchive(bytes, { name: "bomb.safe" }), (error: unknown) => {
      assert.ok(error instanceof SafeArchiveError);
      assert.equal(error.code, "size_mismatch");
      assert.equal(
        error.message,
        "module archive 'bomb.safe': entry 'web/bomb.bin' inflates to more than its declared 1000 bytes (forged size)",
      );
      return true;
    });
  });
  assert.ok(inflated < 4 * MiB, `inflated only ${inflated} of ${BOMB_BYTES} bytes before refusing`);
  assert.ok(performance.now() - started < 2000, "refused quickly");
});

Deno.test("zip bomb: many small honest entries are refused once their declared total passes 256 MiB", async () => {
  // 6 entries of 50 MiB each, under the per-entry limit, over the total; built from one payload.
  const fifty = await deflateRaw((function* () {
    const zeros = new Uint8Array(MiB);
    for (let i = 0; i < 50; i++) yield zeros;
  })());
  const bombs = Array.from({ length: 6 }, (_, i) => ({
    name: `web/part${i}.bin`,
    deflated: fifty,
    declaredUncompressedSize: 50 * MiB,
    crc32: 0,
  }));
  const bytes = await forgeZip([...goodEntries, ...bombs]);
  await assert.rejects(
    readSafeArchive(bytes, { name: "bomb.safe", maxRatio: 10_000 }),
    (error: unknown) => {
      assert.ok(error instanceof SafeArchiveError);
      assert.equal(error.code, "total_too_large");
      assert.equal(
        error.message,
        "module archive 'bomb.safe': entry 'web/part5.bin' brings the archive's declared size over 256 MiB in total",
      );
      return true;
    },
  );
});
