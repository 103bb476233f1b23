import assert from "node:assert/strict";
import { searchBalancedLists, strictRange } from "../../src/core/farm_buckets_search.ts";
import { polishBalancedLists } from "../../src/core/farm_buckets_polish.ts";
import { EQUAL_POWER_ORDERS, equalPowerTableSearch } from "../../src/core/farm_buckets_equal_table.ts";

const popcount = (m: number) => m.toString(2).split("1").length - 1;
const weighted = (powers: number[]) => (mask: number, i: number) => {
  if (((mask >> i) & 1) === 0) return 0;
  let total = 0;
  powers.forEach((p, j) => (total += (mask >> j) & 1 ? p : 0));
  return powers[i] / total;
};
/** the worst bucket (the same first node everywhere) */
const allSame = (n: number) => Array.from({ length: 256 }, () => [...Array(n).keys()]);

Deno.test("search: 3 equal nodes from the worst start end with every subset within one bucket, pairs exact", () => {
  const r = searchBalancedLists({
    n: 3,
    share: weighted([1, 1, 1]),
    mustPrecede: () => false,
    start: allSame(3),
    seed: 1,
    moves: 200_000,
  });
  assert.equal(r.violations, 0);
  assert.ok(r.maxDeviation < 1);
});

Deno.test("search: the same input gives the same lists (every node computes the same)", () => {
  const input = {
    n: 5,
    share: weighted([5, 3, 2, 1, 1]),
    mustPrecede: () => false,
    start: allSame(5),
    seed: 9,
    moves: 20_000,
  };
  assert.deepEqual(searchBalancedLists(input).lists, searchBalancedLists(input).lists);
});

Deno.test("search and polish never break an order constraint", () => {
  // node 0 must precede node 3 (as an eclipser its eclipsed node), node 3 has power 0 here
  const mustPrecede = (a: number, b: number) => a === 0 && b === 3;
  const base = { n: 4, share: weighted([2, 1, 1, 0]), mustPrecede, seed: 3 };
  const a = searchBalancedLists({ ...base, start: allSame(4), moves: 50_000 });
  const b = polishBalancedLists({ ...base, start: a.lists, iterations: 200 });
  for (const l of [...a.lists, ...b.lists]) assert.ok(l.indexOf(0) < l.indexOf(3), `${l}`);
  assert.equal(b.violations, 0);
});

Deno.test("strict range applies to pairs and the whole universe only", () => {
  assert.equal(strictRange(0b11, 4), true);
  assert.equal(strictRange(0b1001, 4), true);
  assert.equal(strictRange(0b1111, 4), true);
  assert.equal(strictRange(0b111, 4), false);
  assert.equal(strictRange(0b1, 4), false);
});

Deno.test("equal-power table: regenerates identically and is XOR-invariant and balanced for every label subset", () => {
  const again = equalPowerTableSearch(1);
  assert.equal(again.violations, 0);
  assert.deepEqual(again.lists, EQUAL_POWER_ORDERS.map((o) => [...o]));
  const key = (o: readonly number[]) => o.join("");
  const orders = new Set(EQUAL_POWER_ORDERS.map(key));
  for (const o of EQUAL_POWER_ORDERS) {
    for (let v = 0; v < 8; v++) assert.ok(orders.has(key(o.map((i) => i ^ v))));
  }
  for (let mask = 1; mask < 256; mask++) {
    const c = new Array(8).fill(0);
    for (const o of EQUAL_POWER_ORDERS) c[o.find((i) => (mask >> i) & 1)!]++;
    const ideal = 256 / popcount(mask);
    for (let i = 0; i < 8; i++) {
      if ((mask >> i) & 1) {
        const d = Math.abs(c[i] - ideal);
        assert.ok(
          popcount(mask) === 2 || mask === 255 ? d < 1 : d <= 1,
          `subset ${mask.toString(2)}: ${i} has ${c[i]}`,
        );
      }
    }
  }
});
