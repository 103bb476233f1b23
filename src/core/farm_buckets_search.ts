// Preference lists balanced for EVERY membership at once (docs/farm.md, "Bucket assignment").
//
// Why lists: an assignment that moves exactly the minimum on every join and leave, and depends on the
// membership only, is the same thing as one fixed order (permutation) of all the group's nodes per bucket,
// the owner under membership S being the first member of S in that order (remove nodes one at a time).
// So exact minimal movement is free once the lists exist; the work is to make the first choices balanced:
// for every subset S of the nodes and every i in S, the number of buckets whose first member of S is i
// should be within one bucket of 256·share_i(S): the floor or ceiling of a fractional ideal, exactly the
// ideal when it is a whole number.
//
// How: deterministic local search by adjacent swaps (simulated annealing, seeded). Swapping the nodes a, b
// at positions p, p+1 of one bucket's list changes the first choice (a → b) of exactly the subsets that
// contain a and b and none of the p nodes in front: counts are updated incrementally over those subsets
// only. The cost is the sum over (subset, node) of the cubed distance from the count to its allowed
// range (cubed: one pair 2 buckets out costs more than several pairs 1 out). Half the moves are random,
// half aim at a violated (subset, node) pair (swap its node out of, or into, first place in a bucket where
// the next node belongs to the subset). Bounded by a move budget, never by time.
// Order constraints (an eclipser before the nodes it eclipses, power-0 nodes last) are never broken.
//
// Pure and deterministic: same inputs, same lists, on every node.

export const SEARCH_BUCKETS = 256;

/**
 * The allowed range of a (subset, node) count: |count − ideal| < 1 (floor or ceiling; the ideal itself when
 * whole) for two-node memberships and the whole universe, the cases an administrator checks first (two
 * equal nodes: 128/128); |count − ideal| ≤ 1 for the others, because the strict range for every subset
 * was not reached (for 8 equal nodes it asks exactly 64 of 256 for each of 70 four-node subsets as well).
 */
export function strictRange(mask: number, n: number): boolean {
  const withoutLowest = mask & (mask - 1);
  const isPair = withoutLowest !== 0 && (withoutLowest & (withoutLowest - 1)) === 0;
  return isPair || mask === (1 << n) - 1;
}

export type SearchInput = {
  readonly n: number;
  /** ideal fraction of node i under membership `mask` (0 when it takes no traffic) */
  readonly share: (mask: number, i: number) => number;
  /** must a come before b in every list? */
  readonly mustPrecede: (a: number, b: number) => boolean;
  /** starting lists: SEARCH_BUCKETS permutations of 0..n-1 honouring mustPrecede */
  readonly start: readonly (readonly number[])[];
  readonly seed: number;
  /** move budget (each move costs at most 2^(n−2) subset updates) */
  readonly moves: number;
  /** annealing temperature, from `hot` down to `cold` (geometric) */
  readonly hot?: number;
  readonly cold?: number;
  /**
   * Optional symmetry: node relabelings forming a group (the first one the identity) whose size divides 256.
   * Buckets then come in orbits: list(o·G + k) = relabeling k applied to list(o·G), and every move is made
   * on a whole orbit, so the family stays invariant and symmetric (subset, node) pairs are balanced alike.
   * Used offline to find the equal-power table (farm_buckets_equal_table.ts).
   */
  readonly relabelings?: readonly (readonly number[])[];
};

export type SearchResult = {
  readonly lists: number[][];
  /** number of (subset, node) pairs outside their range; 0 = balanced within one bucket everywhere */
  readonly violations: number;
  /** the largest |count − ideal| over every subset and node */
  readonly maxDeviation: number;
  readonly moves: number;
};

/** xorshift32: a small seeded generator so every node draws the same moves. */
export function rng(seed: number) {
  let x = (seed >>> 0) || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/**
 * Per (subset, node): the ideal count of buckets led, the allowed range around it (within one bucket), whether
 * some member of the subset takes traffic; and which node must precede which in every list.
 */
export function shareTables(
  n: number,
  input: { share(mask: number, i: number): number; mustPrecede(a: number, b: number): boolean },
) {
  const B = SEARCH_BUCKETS;
  const M = 1 << n;
  const lo = new Int32Array(M * n);
  const hi = new Int32Array(M * n);
  const ideal = new Float64Array(M * n);
  const active = new Uint8Array(M); // subsets where some member takes traffic
  for (let mask = 1; mask < M; mask++) {
    for (let i = 0; i < n; i++) {
      if (((mask >> i) & 1) === 0) continue;
      const x = B * input.share(mask, i);
      ideal[mask * n + i] = x;
      if (x === 0) continue; // lo = hi = 0: a node without a share never leads
      const slack = strictRange(mask, n) ? -1e-9 : 1e-9;
      lo[mask * n + i] = Math.ceil(x - 1 - slack);
      hi[mask * n + i] = Math.floor(x + 1 + slack);
      if (x > 0) active[mask] = 1;
    }
  }
  const must = new Uint8Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) must[a * n + b] = a !== b && input.mustPrecede(a, b) ? 1 : 0;
  }
  return { lo, hi, ideal, active, must };
}

export function searchBalancedLists(input: SearchInput): SearchResult {
  const { n } = input;
  const B = SEARCH_BUCKETS;
  const M = 1 << n;
  const { lo, hi, ideal, active, must } = shareTables(n, input);
  const perm = new Uint8Array(B * n);
  const G = input.relabelings?.length ?? 1;
  input.start.forEach((list, t) => {
    const g = input.relabelings?.[t % G];
    const from = input.start[t - (t % G)];
    for (let k = 0; k < n; k++) perm[t * n + k] = g ? g[from[k]] : list[k];
  });
  const cnt = new Int32Array(M * n);
  for (let t = 0; t < B; t++) {
    for (let mask = 1; mask < M; mask++) {
      for (let k = 0; k < n; k++) {
        const e = perm[t * n + k];
        if ((mask >> e) & 1) {
          cnt[mask * n + e]++;
          break;
        }
      }
    }
  }
  const excessOf = (idx: number, c: number) => (c > hi[idx] ? c - hi[idx] : c < lo[idx] ? lo[idx] - c : 0);
  const costOf = (idx: number, c: number) => {
    const e = excessOf(idx, c);
    return e * e * e;
  };
  const violated: number[] = [];
  const collectViolations = () => {
    violated.length = 0;
    for (let mask = 1; mask < M; mask++) {
      if (!active[mask]) continue;
      for (let i = 0; i < n; i++) {
        if ((mask >> i) & 1 && excessOf(mask * n + i, cnt[mask * n + i]) > 0) violated.push(mask * n + i);
      }
    }
  };
  collectViolations();
  let total = 0;
  for (const idx of violated) total += costOf(idx, cnt[idx]);

  /** subsets whose first choice a swap at p of bucket t changes: contain perm[p], perm[p+1], avoid the prefix */
  const afterPair = (base: number, p: number) => {
    let rest = 0;
    for (let k = p + 2; k < n; k++) rest |= 1 << perm[base + k];
    return rest;
  };
  const deltaOfSwap = (base: number, p: number) => {
    const a = perm[base + p], b = perm[base + p + 1];
    const rest = afterPair(base, p), ab = (1 << a) | (1 << b);
    let d = 0;
    for (let sub = rest;; sub = (sub - 1) & rest) {
      const mask = sub | ab;
      if (active[mask]) {
        // a loses a first place, b gains one (the hot loop: costOf written out)
        const ia = mask * n + a, ib = mask * n + b;
        const ca = cnt[ia], la = lo[ia], ha = hi[ia], cb = cnt[ib], lb = lo[ib], hb = hi[ib];
        const ea0 = ca > ha ? ca - ha : ca < la ? la - ca : 0;
        const ea1 = ca - 1 > ha ? ca - 1 - ha : ca - 1 < la ? la - ca + 1 : 0;
        const eb0 = cb > hb ? cb - hb : cb < lb ? lb - cb : 0;
        const eb1 = cb + 1 > hb ? cb + 1 - hb : cb + 1 < lb ? lb - cb - 1 : 0;
        d += ea1 * ea1 * ea1 - ea0 * ea0 * ea0 + eb1 * eb1 * eb1 - eb0 * eb0 * eb0;
      }
      if (sub === 0) break;
    }
    return d;
  };
  const applySwap = (base: number, p: number) => {
    const a = perm[base + p], b = perm[base + p + 1];
    const rest = afterPair(base, p), ab = (1 << a) | (1 << b);
    for (let sub = rest;; sub = (sub - 1) & rest) {
      const mask = sub | ab;
      cnt[mask * n + a]--;
      cnt[mask * n + b]++;
      if (sub === 0) break;
    }
    perm[base + p] = b;
    perm[base + p + 1] = a;
  };
  /** a swap that moves violated pair idx toward its range, or -1: position p of bucket base */
  const aimedSwap = (idx: number, base: number) => {
    const mask = Math.floor(idx / n), i = idx % n;
    let p = 0;
    while (((mask >> perm[base + p]) & 1) === 0) p++;
    if (p + 1 >= n || ((mask >> perm[base + p + 1]) & 1) === 0) return -1;
    const over = cnt[idx] > hi[idx];
    if (over ? perm[base + p] === i : perm[base + p + 1] === i) return p;
    return -1;
  };

  const random = rng(input.seed);
  const hot = input.hot ?? 0.6, cold = input.cold ?? 0.05;
  const cooling = Math.pow(cold / hot, 1 / Math.max(1, input.moves));
  let temperature = hot / cooling;
  let m = 0;
  for (; m < input.moves && total > 0; m++) {
    if ((m & 1023) === 0) collectViolations();
    temperature *= cooling;
    const base = (random() & (B - 1)) * n;
    let p: number;
    if ((m & 1) === 1 && violated.length > 0) {
      p = aimedSwap(violated[random() % violated.length], base);
      if (p < 0) continue;
    } else {
      p = random() % (n - 1);
    }
    if (G === 1) {
      if (must[perm[base + p] * n + perm[base + p + 1]]) continue;
      const d = deltaOfSwap(base, p);
      if (d > 0 && random() / 4294967296 >= Math.exp(-d / temperature)) continue;
      applySwap(base, p);
      total += d;
      continue;
    }
    // the whole orbit moves: apply one swap after the other (they may touch the same counts), undo if refused
    const orbit = (base / n - ((base / n) % G)) * n;
    let blocked = false;
    for (let k = 0; k < G && !blocked; k++) {
      blocked = must[perm[orbit + k * n + p] * n + perm[orbit + k * n + p + 1]] === 1;
    }
    if (blocked) continue;
    let d = 0;
    for (let k = 0; k < G; k++) {
      d += deltaOfSwap(orbit + k * n, p);
      applySwap(orbit + k * n, p);
    }
    if (d > 0 && random() / 4294967296 >= Math.exp(-d / temperature)) {
      for (let k = G - 1; k >= 0; k--) applySwap(orbit + k * n, p);
      continue;
    }
    total += d;
  }

  let violations = 0, maxDeviation = 0;
  for (let mask = 1; mask < M; mask++) {
    if (!active[mask]) continue;
    for (let i = 0; i < n; i++) {
      if (((mask >> i) & 1) === 0) continue;
      const idx = mask * n + i;
      if (excessOf(idx, cnt[idx]) > 0) violations++;
      maxDeviation = Math.max(maxDeviation, Math.abs(cnt[idx] - ideal[idx]));
    }
  }
  const lists = Array.from({ length: B }, (_, t) => Array.from(perm.subarray(t * n, t * n + n)));
  return { lists, violations, maxDeviation, moves: m };
}
