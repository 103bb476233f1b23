// Second phase of the preference-list search (farm_buckets_search.ts): steepest descent on the worst
// (subset, node) pair. The annealing of adjacent swaps gets close quickly but wanders at the end; this
// phase takes the pair furthest outside its range and, over every bucket where that pair can change,
// tries moving one node of the list before or after the other (a rotation, i.e. a run of adjacent swaps),
// keeping the candidate that lowers the total cubed excess most (or raises it least: a short tabu on
// the bucket just changed keeps it from undoing itself); the best family met is returned. A rotation starting at position p only changes
// the first choice of subsets that avoid the p nodes in front, so a candidate costs at most 2^(n−p)
// subset visits. Deterministic: seeded tie-breaks, bounded iterations.

import { rng, SEARCH_BUCKETS, shareTables } from "./farm_buckets_search.ts";

export type PolishInput = {
  readonly n: number;
  readonly share: (mask: number, i: number) => number;
  readonly mustPrecede: (a: number, b: number) => boolean;
  readonly start: readonly (readonly number[])[];
  readonly seed: number;
  readonly iterations: number;
};

export type PolishResult = {
  readonly lists: number[][];
  readonly violations: number;
  readonly maxDeviation: number;
  readonly iterations: number;
};

export function polishBalancedLists(input: PolishInput): PolishResult {
  const { n } = input;
  const B = SEARCH_BUCKETS;
  const M = 1 << n;
  const { lo, hi, ideal, active, must } = shareTables(n, input);
  const perm = new Uint8Array(B * n);
  const first = new Uint8Array(B * M);
  const cnt = new Int32Array(M * n);
  input.start.forEach((list, t) => list.forEach((e, k) => (perm[t * n + k] = e)));

  // every subset avoiding list[0..from-1], with its first node in list
  const firstsFrom = (list: Uint8Array, from: number, visit: (mask: number, f: number) => void) => {
    let rest = 0;
    for (let k = from; k < n; k++) rest |= 1 << list[k];
    for (let k = from; k < n; k++) {
      const e = list[k];
      rest &= ~(1 << e);
      for (let sub = rest;; sub = (sub - 1) & rest) {
        visit(sub | (1 << e), e);
        if (sub === 0) break;
      }
    }
  };
  for (let t = 0; t < B; t++) {
    firstsFrom(perm.subarray(t * n, t * n + n), 0, (mask, f) => {
      first[t * M + mask] = f;
      cnt[mask * n + f]++;
    });
  }
  const excessOf = (idx: number, c: number) => (c > hi[idx] ? c - hi[idx] : c < lo[idx] ? lo[idx] - c : 0);
  const costOf = (idx: number, c: number) => {
    const e = excessOf(idx, c);
    return e * e * e;
  };
  const changes: number[] = [];
  const deltaOf = (t: number, cand: Uint8Array, from: number, record: boolean) => {
    let delta = 0;
    if (record) changes.length = 0;
    const tm = t * M;
    firstsFrom(cand, from, (mask, f) => {
      const old = first[tm + mask];
      if (old === f) return;
      if (record) changes.push(mask, f);
      if (!active[mask]) return;
      const a = mask * n + old, b = mask * n + f;
      delta += costOf(a, cnt[a] - 1) - costOf(a, cnt[a]) + costOf(b, cnt[b] + 1) - costOf(b, cnt[b]);
    });
    return delta;
  };
  const orderOk = (list: Uint8Array) => {
    for (let x = 0; x < n; x++) for (let y = x + 1; y < n; y++) if (must[list[y] * n + list[x]]) return false;
    return true;
  };
  const rotated = (t: number, from: number, to: number, out: Uint8Array) => {
    const base = t * n;
    for (let k = 0; k < n; k++) out[k] = perm[base + k];
    const e = out[from];
    if (from < to) { for (let k = from; k < to; k++) out[k] = out[k + 1]; }
    else for (let k = from; k > to; k--) out[k] = out[k - 1];
    out[to] = e;
  };

  let total = 0;
  for (let mask = 1; mask < M; mask++) {
    if (!active[mask]) continue;
    for (let i = 0; i < n; i++) if ((mask >> i) & 1) total += costOf(mask * n + i, cnt[mask * n + i]);
  }
  // The walk may go uphill: the best family seen is returned, best = smallest largest excess, then smallest
  // total (a lower sum of squares may hide one pair 2 buckets out).
  let bestWorst = Infinity, bestTotal = Infinity;
  const bestPerm = perm.slice();
  const random = rng(input.seed);
  const tabu = new Int32Array(B).fill(-1);
  const cand = new Uint8Array(n);
  const best = new Uint8Array(n);
  let it = 0;
  for (;; it++) {
    let worst = -1, worstExcess = 0, ties = 0;
    for (let mask = 1; mask < M; mask++) {
      if (!active[mask]) continue;
      for (let i = 0; i < n; i++) {
        if (((mask >> i) & 1) === 0) continue;
        const e = excessOf(mask * n + i, cnt[mask * n + i]);
        if (e === 0 || e < worstExcess) continue;
        if (e > worstExcess) {
          worstExcess = e;
          worst = mask * n + i;
          ties = 1;
        } else if (random() % ++ties === 0) worst = mask * n + i;
      }
    }
    if (worstExcess < bestWorst || (worstExcess === bestWorst && total < bestTotal)) {
      bestWorst = worstExcess;
      bestTotal = total;
      bestPerm.set(perm);
    }
    if (it >= input.iterations || total === 0) break;
    const mask = Math.floor(worst / n), i = worst % n;
    const over = cnt[worst] > hi[worst];
    let bestDelta = Infinity, bestT = -1, bestFrom = 0;
    for (let t = 0; t < B; t++) {
      const f = first[t * M + mask];
      if (over ? f !== i : f === i) continue;
      if (tabu[t] > it) continue;
      const base = t * n;
      let pf = 0;
      while (perm[base + pf] !== f) pf++;
      // over: i leads the subset here; move i behind the next member, or that member in front of i.
      // under: another member leads; move i in front of it, or it behind i.
      let q = pf + 1;
      if (over) { while (q < n && ((mask >> perm[base + q]) & 1) === 0) q++; }
      else while (perm[base + q] !== i) q++;
      if (q >= n) continue;
      for (const [from, to] of [[pf, q], [q, pf]]) {
        rotated(t, from, to, cand);
        if (!orderOk(cand)) continue;
        const d = deltaOf(t, cand, pf, false);
        if (d < bestDelta || (d === bestDelta && (random() & 3) === 0)) {
          bestDelta = d;
          bestT = t;
          bestFrom = pf;
          best.set(cand);
        }
      }
    }
    if (bestT < 0) {
      tabu.fill(-1);
      continue;
    }
    deltaOf(bestT, best, bestFrom, true);
    const tm = bestT * M;
    for (let k = 0; k < changes.length; k += 2) {
      const m = changes[k], f = changes[k + 1];
      cnt[m * n + first[tm + m]]--;
      cnt[m * n + f]++;
      first[tm + m] = f;
    }
    perm.set(best, bestT * n);
    total += bestDelta;
    tabu[bestT] = it + 2 + (random() % 4);
  }
  perm.set(bestPerm);
  cnt.fill(0);
  for (let t = 0; t < B; t++) {
    firstsFrom(perm.subarray(t * n, t * n + n), 0, (mask, f) => cnt[mask * n + f]++);
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
  return { lists, violations, maxDeviation, iterations: it };
}
