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
  "67053142 76142053 45271360 54360271 23417506 32506417 01635724 10724635 36421057 27530146 14603275 05712364",
  "72065413 63174502 50247631 41356720 10523647 01432756 32701465 23610574 54167203 45076312 76345021 67254130",
  "46715302 57604213 64537120 75426031 02351746 13240657 20173564 31062475 74321560 65230471 56103742 47012653",
  "30765124 21674035 12547306 03456217 63521704 72430615 41703526 50612437 27165340 36074251 05347162 14256073",
  "26371540 37260451 04153762 15042673 62735104 73624015 40517326 51406237 02734165 13625074 20516347 31407256",
  "46370521 57261430 64152703 75043612 21734065 30625174 03516247 12407356 65370421 74261530 47152603 56043712",
  "62075431 73164520 40257613 51346702 26431075 37520164 04613257 15702346 72154036 63045127 50376214 41267305",
  "36510472 27401563 14732650 05623741 40673125 51762034 62451307 73540216 04237561 15326470 26015743 37104652",
  "60453271 71542360 42671053 53760142 24017635 35106724 06235417 17324506 51603427 40712536 73421605 62530714",
  "15247063 04356172 37065241 26174350 60175432 71064523 42357610 53246701 24531076 35420167 06713254 17602345",
  "30724561 21635470 12506743 03417652 74360125 65271034 56142307 47053216 64352710 75243601 46170532 57061423",
  "20716354 31607245 02534176 13425067 07614352 16705243 25436170 34527061 43250716 52341607 61072534 70163425",
  "60572413 71463502 42750631 53641720 24136057 35027146 06314275 17205364 52710463 43601572 70532641 61423750",
  "16354027 07245136 34176205 25067314 42150637 53041726 60372415 71263504 06514273 17405362 24736051 35627140",
  "46025371 57134260 64207153 75316042 02461735 13570624 20643517 31752406 47623051 56732140 65401273 74510362",
  "03267415 12376504 21045637 30154726 56047213 47156302 74265031 65374120 12403657 03512746 30621475 21730564",
  "54670213 45761302 76452031 67543120 10234657 01325746 32016475 23107564 36425017 27534106 14607235 05716324",
  "72061453 63170542 50243671 41352760 64237501 75326410 46015723 57104632 20673145 31762054 02451367 13540276",
  "67043521 76152430 45261703 54370612 23407165 32516074 01625347 10734256 67230145 76321054 45012367 54103276",
  "23674501 32765410 01456723 10547632 61204375 70315264 43026157 52137046 25640731 34751620 07462513 16573402",
  "40723651 51632740 62501473 73410562 04367215 15276304 26145037 37054126 43671052 52760143 61453270 70542361",
  "07235416 16324507 25017634 34106725",
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
