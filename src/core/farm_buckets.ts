// Farm load balancing (spec §8): which UP node owns each of a group's 256 buckets.
// Pure: the same group configuration and member set give the same owners on every node, whatever
// the order the members are listed in. SafeKit's own hashing is not published (spec §13); our design:
//
// 1. Effective shares. A member with power 0 gets nothing. A member is "eclipsed" while another member
//    has at least CHAIN_RATIO (64) times its power: that is the chain HA of spec §8 (powers 1, 64, 64², ...:
//    the highest-power available node takes all the traffic, the next one takes over only when it leaves).
//    The other members share the 256 buckets in proportion to their power.
// 2. Preference lists. For every bucket a permutation of ALL the group's nodes (the "universe": every node
//    with a power, members or not) is computed once per configuration. A bucket's first choice is the first
//    member in its list. Such a family of lists gives the minimal movement by construction: when a node
//    leaves, only its buckets change owner (each goes to the next member of its list), and a joining node
//    takes only buckets it comes first for. Eclipsers come before the nodes they eclipse in every list and
//    power-0 nodes last, so eclipsed and power-0 members are never a first choice.
//    Conversely, an assignment that moves exactly the minimum on every join and leave and depends only on
//    the membership IS such a family (remove nodes one at a time), so lists are the only way to get it.
//    Up to MAX_SEARCHED_UNIVERSE (8) nodes the owners are the first choices, nothing else: a join or leave
//    moves EXACTLY the minimum. The lists come from
//    a. the embedded equal-power table (farm_buckets_equal_table.ts) when the serving nodes have equal
//       powers, or tiers of equal powers each eclipsing the next (chain HA): every membership within one
//       bucket of its share (|count − ideal| ≤ 1), every pair and the whole farm of 2, 4 or 8 exact;
//    b. otherwise a search, once per configuration: greedy build (bucket after bucket, each position taking
//       the candidate that best reduces a cosh potential of count minus ideal summed over EVERY subset),
//       then seeded annealing of adjacent swaps and, up to 7 nodes, steepest descent on the worst pair
//       (farm_buckets_search.ts, farm_buckets_polish.ts). Measured: every membership within 2 buckets of
//       its weighted share and every two-node membership within one (docs/farm.md, scripts/bench/farm.ts
//       --buckets); "within one" everywhere was not reached for 8 weighted nodes in the time budget.
// 3. Larger universes (the earlier algorithm, kept): greedy lists up to MAX_EXHAUSTIVE_UNIVERSE (10) nodes,
//    weighted rendezvous order above, then a balancing correction: targets are the floor or ceiling of each
//    ideal share, the ceilings going to the members whose first-choice count is highest; buckets of
//    over-target members go, in bucket order, to the next under-target member of their list. Balanced
//    within one bucket, a join or leave moves the minimum plus at most a few buckets.
// 4. Power 0 never owns a bucket; when every member has power 0 the buckets have no owner (null): the
//    administrator said these nodes take no traffic, and an outage is visible in `farm load: 0/256`.

export const BUCKET_COUNT = 256;
/** A member with at least this many times the power of another eclipses it (chain HA, spec §8). */
export const CHAIN_RATIO = 64;
/** Universes up to this size get greedy lists balanced over every subset. */
export const MAX_EXHAUSTIVE_UNIVERSE = 10;
/** Universes up to this size get searched lists and exactly minimal movement (no correction). */
export const MAX_SEARCHED_UNIVERSE = 8;
/** Move budget of the search: fixed (never a time limit) so that every node computes the same lists. */
const SEARCH_MOVES = 250_000;
/**
 * Steepest-descent iterations after the annealing (an iteration costs ~0.1 ms for 6 nodes, ~0.5 ms for 7,
 * ~2 ms for 8): up to 7 nodes they usually finish the job; with 8, 60 of them gained little, so none.
 */
const polishIterations = (n: number) => (n <= 6 ? 400 : n === 7 ? 200 : 0);

/** One `<group>` of `<loadbalancing_list>`: its name and the power of every node that may serve it. */
export type FarmGroup = { readonly name: string; readonly powers: Readonly<Record<string, number>> };

export type BucketAssignment = {
  readonly group: string;
  /** the sorted members the assignment was computed for */
  readonly members: readonly string[];
  /** owner of each bucket 0..255; null when no member may take traffic (all power 0 or no member) */
  readonly owners: readonly (string | null)[];
};

/**
 * Powers of a group's nodes: `<cluster><host name power/>` when given, else power 1 for every cluster
 * node (spec §4.6 "equal"). Cluster nodes not listed in a `<cluster>` get power 0: the list says who serves.
 */
export function groupPowers(
  clusterNodes: readonly string[],
  hosts?: readonly { readonly name: string; readonly power: number }[],
): Record<string, number> {
  const powers: Record<string, number> = {};
  for (const n of clusterNodes) powers[n] = hosts === undefined ? 1 : 0;
  for (const h of hosts ?? []) powers[h.name] = h.power;
  return powers;
}

/** The resource and log name of a group: `<group>_0` (spec §8, e.g. FarmProto_0). */
export const groupResourceName = (group: string) => `${group}_0`;

import { searchBalancedLists } from "./farm_buckets_search.ts";
import { polishBalancedLists } from "./farm_buckets_polish.ts";
import { EQUAL_POWER_ORDERS } from "./farm_buckets_equal_table.ts";

const sortedUnique = (names: readonly string[]) =>
  [...new Set(names)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

function powerOf(group: FarmGroup, node: string): number {
  const p = group.powers[node];
  return p !== undefined && Number.isFinite(p) && p > 0 ? p : 0;
}

/** `a` must come before `b` in every preference list (b is eclipsed by a, or has power 0). */
const precedes = (pa: number, pb: number) => (pb === 0 ? pa > 0 : pa >= CHAIN_RATIO * pb);

/**
 * Ideal (fractional) number of buckets of each member: proportional to power among the members that
 * are neither power 0 nor eclipsed. Members with no share are present with 0.
 */
export function idealShares(group: FarmGroup, members: readonly string[]): Map<string, number> {
  const mem = sortedUnique(members);
  const powers = mem.map((m) => powerOf(group, m));
  const eligible = mem.map((_, i) => powers[i] > 0 && !powers.some((pj) => precedes(pj, powers[i])));
  const total = powers.reduce((sum, p, i) => (eligible[i] ? sum + p : sum), 0);
  return new Map(mem.map((m, i) => [m, eligible[i] ? (BUCKET_COUNT * powers[i]) / total : 0]));
}

// ---------------------------------------------------------------- preference lists

/** FNV-1a, 32 bits: a stable, platform-independent hash for tie-breaks and rendezvous scores. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

type Universe = { readonly nodes: readonly string[]; readonly powers: readonly number[] };

/** Orders the universe by a per-group hash, so groups with identical powers still break ties differently. */
function universeOf(group: FarmGroup): Universe {
  const nodes = sortedUnique(Object.keys(group.powers)).sort((a, b) =>
    fnv1a(`${group.name}\0${a}`) - fnv1a(`${group.name}\0${b}`) || (a < b ? -1 : a > b ? 1 : 0)
  );
  return { nodes, powers: nodes.map((n) => powerOf(group, n)) };
}

/** Ideal share of each universe index within subset mask S (0 for absent, power-0 or eclipsed). */
function subsetShares(powers: readonly number[], mask: number): number[] {
  const n = powers.length;
  const inS = (i: number) => ((mask >> i) & 1) === 1;
  const eligible = powers.map((p, i) =>
    inS(i) && p > 0 && !powers.some((pj, j) => j !== i && inS(j) && precedes(pj, p))
  );
  const total = powers.reduce((sum, p, i) => (eligible[i] ? sum + p : sum), 0);
  return Array.from({ length: n }, (_, i) => (eligible[i] ? powers[i] / total : 0));
}

const POTENTIAL_SHARPNESS = 2;
const potential = (x: number) => Math.cosh(POTENTIAL_SHARPNESS * x);

/** Greedy low-discrepancy lists: see the header, point 2. Cost 256 × n² × 2ⁿ. */
function balancedLists(u: Universe): number[][] {
  const n = u.nodes.length;
  const full = (1 << n) - 1;
  const shares: number[][] = [];
  for (let mask = 0; mask <= full; mask++) shares.push(subsetShares(u.powers, mask));
  const counts = shares.map(() => new Array<number>(n).fill(0));
  const lists: number[][] = [];
  for (let t = 0; t < BUCKET_COUNT; t++) {
    const list: number[] = [];
    let placed = 0;
    while (list.length < n) {
      let best = -1;
      let bestCost = Infinity;
      for (let e = 0; e < n; e++) {
        if ((placed >> e) & 1) continue;
        let blocked = false;
        for (let j = 0; j < n && !blocked; j++) {
          blocked = j !== e && ((placed >> j) & 1) === 0 && precedes(u.powers[j], u.powers[e]);
        }
        if (blocked) continue;
        // e becomes the first choice of every subset containing e and none of the nodes already placed
        let cost = 0;
        for (let mask = 1; mask <= full; mask++) {
          if (((mask >> e) & 1) === 0 || (mask & placed) !== 0) continue;
          const share = shares[mask][e];
          if (share === 0) continue;
          const x = counts[mask][e] - (t + 1) * share;
          cost += potential(x + 1) - potential(x);
        }
        if (cost < bestCost) {
          bestCost = cost;
          best = e;
        }
      }
      list.push(best);
      placed |= 1 << best;
    }
    lists.push(list);
    for (let mask = 1; mask <= full; mask++) {
      const first = list.find((i) => ((mask >> i) & 1) === 1)!;
      if (shares[mask][first] > 0) counts[mask][first]++;
    }
  }
  return lists;
}

/** Weighted rendezvous order for large universes, still honouring eclipse and power 0. */
function rendezvousLists(u: Universe, group: string): number[][] {
  const idx = u.nodes.map((_, i) => i);
  const lists: number[][] = [];
  for (let b = 0; b < BUCKET_COUNT; b++) {
    const score = idx.map((i) => {
      const h = (fnv1a(`${group}\0${b}\0${u.nodes[i]}`) + 0.5) / 2 ** 32;
      return u.powers[i] > 0 ? -u.powers[i] / Math.log(h) : -Infinity;
    });
    // tiers first: a node eclipsed by k others sits below all of them
    const tier = idx.map((i) => idx.filter((j) => precedes(u.powers[j], u.powers[i])).length);
    lists.push([...idx].sort((a, c) => tier[a] - tier[c] || score[c] - score[a] || a - c));
  }
  return lists;
}

/**
 * Lists from the embedded equal-power table when the positive powers form tiers of equal powers, each tier
 * eclipsing the next (one tier: the default "equal"; several: chain HA such as 1, 64, 4096): in every
 * membership the members of the highest tier present share alike, and the table restricted to them is
 * balanced within one bucket. Power-0 nodes go last. Null when the powers have another shape.
 */
function equalTierLists(u: Universe, group: string): number[][] | null {
  const values = [...new Set(u.powers.filter((p) => p > 0))].sort((a, b) => b - a);
  if (values.some((v, k) => k > 0 && !precedes(values[k - 1], v))) return null;
  const offset = fnv1a(`${group}\0buckets`) % BUCKET_COUNT;
  // each tier is labelled 0..k−1 on its own: its full membership then gets the table's exact cases
  const tiers = [...values, 0].map((v) => u.powers.flatMap((p, i) => (p === v ? [i] : [])));
  return Array.from({ length: BUCKET_COUNT }, (_, t) => {
    const order = EQUAL_POWER_ORDERS[(t + offset) % BUCKET_COUNT];
    return tiers.flatMap((tier) => order.filter((label) => label < tier.length).map((label) => tier[label]));
  });
}

/** Annealing from the greedy lists, then steepest descent on the worst pairs (farm_buckets_search.ts). */
function searchedLists(u: Universe, seed: number): number[][] {
  const shareTable = Array.from({ length: 1 << u.nodes.length }, (_, mask) => subsetShares(u.powers, mask));
  const problem = {
    n: u.nodes.length,
    share: (mask: number, i: number) => shareTable[mask][i],
    mustPrecede: (a: number, b: number) => precedes(u.powers[a], u.powers[b]),
    seed,
  };
  const annealed = searchBalancedLists({ ...problem, start: balancedLists(u), moves: SEARCH_MOVES, hot: 2 });
  if (annealed.violations === 0 || polishIterations(problem.n) === 0) return annealed.lists;
  return polishBalancedLists({ ...problem, start: annealed.lists, iterations: polishIterations(problem.n) })
    .lists;
}

type Preferences = { readonly universe: Universe; readonly lists: readonly (readonly string[])[] };

const preferenceCache = new Map<string, Preferences>();

/** Memoised: the lists depend only on the group name and powers, and cost ~0.2 s for 8 nodes (once). */
export function preferenceLists(group: FarmGroup): Preferences {
  const universe = universeOf(group);
  const key = JSON.stringify([group.name, universe.nodes, universe.powers]);
  const cached = preferenceCache.get(key);
  if (cached) return cached;
  const n = universe.nodes.length;
  const lists = n <= MAX_SEARCHED_UNIVERSE
    ? (equalTierLists(universe, group.name) ?? searchedLists(universe, fnv1a(key)))
    : n <= MAX_EXHAUSTIVE_UNIVERSE
    ? balancedLists(universe)
    : rendezvousLists(universe, group.name);
  const prefs = { universe, lists: lists.map((l) => l.map((i) => universe.nodes[i])) };
  if (preferenceCache.size > 64) preferenceCache.clear();
  preferenceCache.set(key, prefs);
  return prefs;
}

// ---------------------------------------------------------------- assignment

/** First choices only (no balancing correction): exposed for tests and diagnosis. */
export function firstChoices(group: FarmGroup, members: readonly string[]): (string | null)[] {
  const { lists } = preferenceLists(group);
  const shares = idealShares(group, members);
  return lists.map((list) => list.find((n) => (shares.get(n) ?? 0) > 0) ?? null);
}

/** Integer targets within one bucket of the ideal, ceilings to the members already holding the most. */
export function targetCounts(
  shares: ReadonlyMap<string, number>,
  held: ReadonlyMap<string, number>,
): Map<string, number> {
  const target = new Map<string, number>();
  let assigned = 0;
  for (const [m, ideal] of shares) {
    target.set(m, Math.floor(ideal + 1e-9));
    assigned += target.get(m)!;
  }
  if (assigned === 0) return target;
  const fractional = [...shares].filter(([, ideal]) => ideal - Math.floor(ideal + 1e-9) > 1e-9);
  fractional.sort(([a, ia], [b, ib]) =>
    ((held.get(b) ?? 0) - ib) - ((held.get(a) ?? 0) - ia) || (ib % 1) - (ia % 1) || (a < b ? -1 : 1)
  );
  for (const [m] of fractional.slice(0, BUCKET_COUNT - assigned)) target.set(m, target.get(m)! + 1);
  return target;
}

/** The owners of a group's buckets for the given UP members (any order, duplicates ignored). */
export function assignBuckets(group: FarmGroup, members: readonly string[]): BucketAssignment {
  const mem = sortedUnique(members);
  const { lists, universe } = preferenceLists(group);
  const shares = idealShares(group, mem);
  const owners = lists.map((list) => list.find((n) => (shares.get(n) ?? 0) > 0) ?? null);
  // Searched lists are used as they are: first choices move exactly the minimum (the correction would not).
  if (universe.nodes.length <= MAX_SEARCHED_UNIVERSE) return { group: group.name, members: mem, owners };
  const held = new Map<string, number>();
  for (const o of owners) if (o !== null) held.set(o, (held.get(o) ?? 0) + 1);
  const target = targetCounts(shares, held);
  for (let b = 0; b < BUCKET_COUNT; b++) {
    const o = owners[b];
    if (o === null || held.get(o)! <= target.get(o)!) continue;
    const to = lists[b].find((n) => (held.get(n) ?? 0) < (target.get(n) ?? 0));
    if (to === undefined) continue;
    owners[b] = to;
    held.set(o, held.get(o)! - 1);
    held.set(to, (held.get(to) ?? 0) + 1);
  }
  return { group: group.name, members: mem, owners };
}

// ---------------------------------------------------------------- views: load, bitmap, vip_if_ctrl

export function bucketsOf(a: BucketAssignment, node: string): number[] {
  const out: number[] = [];
  a.owners.forEach((o, b) => o === node && out.push(b));
  return out;
}

/** Buckets owned, the N of `farm load: N/256`. */
export const farmLoad = (a: BucketAssignment, node: string) => bucketsOf(a, node).length;

/** The `<group>_0` resource value: load share as a whole percentage ("50%", "100%", "0%"). */
export const loadPercent = (load: number) => `${Math.round((100 * load) / BUCKET_COUNT)}%`;

/**
 * A node's 256-bit bitmap as spec §8 shows it: 8 words of 32 bits in hex separated by ':'. Word k holds
 * buckets 32k..32k+31, bucket 32k being its most significant bit (reading left to right = bucket order).
 */
export function bitmapHex(buckets: Iterable<number>): string {
  const words = new Array<number>(BUCKET_COUNT / 32).fill(0);
  for (const b of buckets) {
    if (!Number.isInteger(b) || b < 0 || b >= BUCKET_COUNT) throw new RangeError(`bucket ${b} out of 0..255`);
    words[b >> 5] = (words[b >> 5] | (1 << (31 - (b & 31)))) >>> 0;
  }
  return words.map((w) => w.toString(16).padStart(8, "0")).join(":");
}

/** Inverse of bitmapHex. */
export function parseBitmapHex(text: string): number[] {
  const words = text.split(":");
  if (words.length !== 8 || !words.every((w) => /^[0-9a-fA-F]{8}$/.test(w))) {
    throw new SyntaxError(
      `invalid farm bitmap '${text}' (expected 8 groups of 8 hex digits separated by ':')`,
    );
  }
  const out: number[] = [];
  words.forEach((w, k) => {
    const v = parseInt(w, 16);
    for (let bit = 0; bit < 32; bit++) if ((v >>> (31 - bit)) & 1) out.push(32 * k + bit);
  });
  return out;
}

/**
 * Text of `safekit -r vip_if_ctrl -l` (format not documented; ours): per group a header with the
 * membership, then one line per member: name, power, load, percentage and bitmap.
 *
 *   group FarmProto_0 membership: node1 node2
 *     node1 power 1 load 128/256 50% ffffffff:00000000:...
 */
export function formatVipIfCtrl(
  entries: readonly { readonly group: FarmGroup; readonly a: BucketAssignment }[],
) {
  const lines: string[] = [];
  for (const { group, a } of entries) {
    lines.push(`group ${groupResourceName(a.group)} membership: ${a.members.join(" ")}`);
    const width = Math.max(0, ...a.members.map((m) => m.length));
    for (const m of a.members) {
      const load = farmLoad(a, m);
      const power = group.powers[m] ?? 0;
      lines.push(
        `  ${m.padEnd(width)} power ${power} load ${load}/${BUCKET_COUNT} ${loadPercent(load)} ${
          bitmapHex(bucketsOf(a, m))
        }`,
      );
    }
  }
  return lines.join("\n") + (lines.length ? "\n" : "");
}
