import assert from "node:assert/strict";
import {
  countZones,
  isZoneSet,
  rangesToCopy,
  setZoneBits,
  zonesTouched,
} from "../../../src/rfs/zones/zone_math.ts";

const Z = 4096;

const touched: [string, number, number, [number, number] | null][] = [
  ["an empty range touches no zone", 100, 0, null],
  ["one byte at 0 is zone 0", 0, 1, [0, 0]],
  ["the last byte of a zone stays in it", Z - 1, 1, [0, 0]],
  ["a range ending exactly at a boundary does not touch the next zone", 0, Z, [0, 0]],
  ["a range crossing a boundary touches both zones", Z - 1, 2, [0, 1]],
  ["a large range spans every zone between", 3 * Z + 5, 10 * Z, [3, 13]],
];
for (const [name, offset, length, want] of touched) {
  Deno.test(`zonesTouched: ${name}`, () => {
    const got = zonesTouched(offset, length, Z);
    assert.deepEqual(got === null ? null : [got.first, got.last], want);
  });
}

Deno.test("setZoneBits grows the bitmap and sets exactly the zones asked", () => {
  let bits: Uint8Array = new Uint8Array(0);
  bits = setZoneBits(bits, 3, 5);
  bits = setZoneBits(bits, 70, 70);
  assert.equal(countZones(bits), 4);
  for (const z of [3, 4, 5, 70]) assert.ok(isZoneSet(bits, z), `zone ${z}`);
  for (const z of [0, 2, 6, 69, 71, 1000]) assert.ok(!isZoneSet(bits, z), `zone ${z}`);
});

Deno.test("rangesToCopy merges adjacent zones and clips the last one to the file size", () => {
  const bits = setZoneBits(setZoneBits(new Uint8Array(0), 1, 2), 4, 4);
  assert.deepEqual(rangesToCopy(bits, null, Z, 4 * Z + 100), [
    { offset: Z, length: 2 * Z },
    { offset: 4 * Z, length: 100 },
  ]);
});

Deno.test("rangesToCopy ignores zones past the end of file (the file shrank after the write)", () => {
  const bits = setZoneBits(new Uint8Array(0), 10, 12);
  assert.deepEqual(rangesToCopy(bits, null, Z, 2 * Z), []);
});

Deno.test("rangesToCopy copies everything from the zone of a truncation point to the end", () => {
  const bits = setZoneBits(new Uint8Array(0), 0, 0);
  assert.deepEqual(rangesToCopy(bits, 2 * Z + 10, Z, 5 * Z), [
    { offset: 0, length: Z },
    { offset: 2 * Z, length: 3 * Z },
  ]);
});
