// Preference lists for a group whose serving nodes all have the same power (the default, spec §4.6 "equal"),
// found once offline and embedded: at run time the search for 8 equal nodes would take seconds.
//
// 256 orders of the labels 0..7 such that for EVERY non-empty subset S of the labels and every i in S, the
// number of orders whose first member of S is i is within one bucket of 256/|S| (|count − ideal| ≤ 1), and
// exactly 128 for every pair, 32 for all 8 and 64 for the 4-label sets {0,1,2,3}-like cosets (see below).
// Deleting labels from every order keeps the property for the remaining ones, so the same table serves 2
// to 8 equal nodes, labelled 0..n−1.
//
// The family is invariant under relabelling by XOR (label i → i ⊕ v, v = 0..7): orders come in 32 orbits
// of 8. That symmetry makes the count of (S, i) equal to that of (S ⊕ v, i ⊕ v), so every pair {a, b} is
// exactly even (v = a ⊕ b swaps them), so is the whole set, and so is every coset of a 2-dimensional
// subspace such as {0,1,2,3} (4 equal nodes: 64 each). Without it the search did not reach "exactly 128"
// for all pairs. Produced by `equalPowerTableSearch()` below (annealing of whole orbits, seed 1, ~0.4 s)
// and checked exhaustively in tests/core/farm_buckets_test.ts.

import { searchBalancedLists } from "./farm_buckets_search.ts";

export const EQUAL_TABLE_NODES = 8;

const TABLE = [
  "76013254 67102345 54231076 45320167 32457610 23546701 10675432 01764523 36472150 27563041 14650372 05741263",
  "72036514 63127405 50214736 41305627 50417632 41506723 72635410 63724501 14053276 05142367 36271054 27360145",
  "64750321 75641230 46572103 57463012 20314765 31205674 02136547 13027456 37042561 26153470 15260743 04371652",
  "73406125 62517034 51624307 40735216 65032417 74123506 47210635 56301724 21476053 30567142 03654271 12745360",
  "76305421 67214530 54127603 45036712 32741065 23650174 10563247 01472356 07534261 16425370 25716043 34607152",
  "43170625 52061734 61352407 70243516 21765043 30674152 03547261 12456370 65321407 74230516 47103625 56012734",
  "20641573 31750462 02463751 13572640 64205137 75314026 46027315 57136204 27153406 36042517 05371624 14260735",
  "63517042 72406153 41735260 50624371 04215763 15304672 26037541 37126450 40651327 51740236 62473105 73562014",
  "60452173 71543062 42670351 53761240 24016537 35107426 06234715 17325604 15643207 04752316 37461025 26570134",
  "51207643 40316752 73025461 62134570 06752314 17643205 24570136 35461027 42316750 53207641 60134572 71025463",
  "07361425 16270534 25143607 34052716 43725061 52634170 61507243 70416352 64103752 75012643 46321570 57230461",
  "20547316 31456207 02765134 13674025 07152643 16043752 25370461 34261570 43516207 52407316 61734025 70625134",
  "60574132 71465023 42756310 53647201 24130576 35021467 06312754 17203645 57240613 46351702 75062431 64173520",
  "13604257 02715346 31426075 20537164 24510673 35401762 06732451 17623540 60154237 71045326 42376015 53267104",
  "26450317 37541206 04672135 15763024 62014753 73105642 40236571 51327460 74265031 65374120 56047213 47156302",
  "30621475 21730564 12403657 03512746 45062173 54173062 67240351 76351240 01426537 10537426 23604715 32715604",
  "45360127 54271036 67142305 76053214 01724563 10635472 23506741 32417650 63405172 72514063 41627350 50736241",
  "27041536 36150427 05263714 14372605 46320517 57231406 64102735 75013624 02764153 13675042 20546371 31457260",
  "67405312 76514203 45627130 54736021 23041756 32150647 01263574 10372465 37645210 26754301 15467032 04576123",
  "73201654 62310745 51023476 40132567 21630574 30721465 03412756 12503647 65274130 74365021 47056312 56147203",
  "47602531 56713420 65420713 74531602 03246175 12357064 21064357 30175246 34207516 25316407 16025734 07134625",
  "70643152 61752043 52461370 43570261",
].join(" ");

/** The 256 orders of labels 0..7. */
export const EQUAL_POWER_ORDERS: readonly (readonly number[])[] = TABLE.split(" ").map((o) =>
  [...o].map(Number)
);

/** How the table was found (well under a second; regenerate with `deno eval`). */
export function equalPowerTableSearch(seed = 1): { lists: number[][]; violations: number } {
  const n = EQUAL_TABLE_NODES;
  const share = (mask: number, i: number) => ((mask >> i) & 1 ? 1 / popcount(mask) : 0);
  let x = (seed * 2654435761) >>> 0 || 1;
  const draw = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
  const start = Array.from(
    { length: 256 },
    () => [...Array(n).keys()].map((i) => [i, draw()] as const).sort((a, b) => a[1] - b[1]).map((q) => q[0]),
  );
  const relabelings = Array.from({ length: n }, (_, v) => Array.from({ length: n }, (_, i) => i ^ v));
  return searchBalancedLists({
    n,
    share,
    mustPrecede: () => false,
    start,
    seed,
    moves: 1_000_000,
    hot: 1,
    cold: 0.05,
    relabelings,
  });
}

function popcount(mask: number): number {
  let c = 0;
  for (let m = mask; m; m &= m - 1) c++;
  return c;
}
