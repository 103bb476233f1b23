// Early writeback of long sequential runs: which ranges are handed to the kernel, and that starting it on a
// real file neither fails nor changes the data.
import assert from "node:assert/strict";
import { SequentialRuns, startWriteback } from "../../src/rfs/writeback_start.ts";
import { cstr, sys } from "../../src/rfs/fuse/libc.ts";

const MiB = 1 << 20;

Deno.test("writeback start: a sequential run is handed over every 8 MiB, from where the last one ended", () => {
  const runs = new SequentialRuns(8 * MiB);
  const got: (string | null)[] = [];
  for (let i = 0; i < 20; i++) {
    const r = runs.note(5, i * MiB, MiB);
    got.push(r === null ? null : `${r.offset / MiB}+${r.length / MiB}`);
  }
  assert.deepEqual(got.filter((x) => x !== null), ["0+8", "8+8"]);
  assert.equal(got.indexOf("0+8"), 7);
});

Deno.test("writeback start: random writes, other descriptors and a closed descriptor start nothing", () => {
  const runs = new SequentialRuns(8 * MiB);
  // Rewriting the same 4 MiB over and over: never a run of 8 MiB.
  for (let i = 0; i < 50; i++) assert.equal(runs.note(3, (i % 4) * MiB, MiB), null);
  // Two descriptors interleaved keep their own runs.
  for (let i = 0; i < 7; i++) {
    assert.equal(runs.note(4, i * MiB, MiB), null);
    assert.equal(runs.note(6, 100 * MiB + i * MiB, MiB), null);
  }
  runs.forget(6); // closed: its number may now name another file
  assert.equal(runs.note(6, 107 * MiB, MiB), null, "a new run starts after forget");
  assert.deepEqual(runs.note(4, 7 * MiB, MiB), { offset: 0, length: 8 * MiB });
  // One write of the threshold or more is handed over at once.
  assert.deepEqual(runs.note(9, 0, 16 * MiB), { offset: 0, length: 16 * MiB });
});

Deno.test("writeback start: on a real file it succeeds quietly and the data is intact", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fd = sys.open(cstr(`${dir}/f`), 0o101, /* O_WRONLY|O_CREAT */ 0o644);
    const data = new Uint8Array(2 * MiB).map((_, i) => i % 253);
    assert.equal(Number(sys.pwrite(fd, data, BigInt(data.length), 0n)), data.length);
    startWriteback(fd, { offset: 0, length: data.length });
    startWriteback(1_000_000, { offset: 0, length: 10 }); // EBADF: ignored, no unhandled rejection
    await new Promise((r) => setTimeout(r, 50));
    sys.close(fd);
    assert.deepEqual(await Deno.readFile(`${dir}/f`), data);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
