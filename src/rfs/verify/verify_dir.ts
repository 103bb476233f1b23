// `safekit rfsverify` for one replicated directory: both listings, their differences, then a bounded number of
// re-checks of just the differing paths. The application keeps writing on the primary during the
// verification, so a file caught between a write on the primary and its arrival on the secondary, or changed
// between the two walks, differs once and then agrees: those are reported apart ("in flight"), and only a
// difference that persists through every re-check is a real one.
import { compareDigests, type Difference } from "./compare_digests.ts";
import type { DigestEntry } from "./tree_digest.ts";

/** Lists one side; `paths` restricts the listing to a re-check of those paths. */
export type DigestSource = (paths?: readonly string[]) => Promise<DigestEntry[]>;

export type DirVerification = {
  /** entries listed on the primary */
  readonly entries: number;
  /** differences that persisted through every re-check */
  readonly differences: readonly Difference[];
  /** paths that differed at first and then agreed (changed during the verification) */
  readonly inFlight: readonly string[];
};

export async function verifyDir(
  primary: DigestSource,
  secondary: DigestSource,
  opts: { rechecks: number; delayMs: number; sleep?: (ms: number) => Promise<void> },
): Promise<DirVerification> {
  const sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  const [p, s] = await Promise.all([primary(), secondary()]);
  let differences = compareDigests(p, s);
  const first = differences.map((d) => d.path);
  for (let i = 0; i < opts.rechecks && differences.length > 0; i++) {
    await sleep(opts.delayMs);
    const paths = differences.map((d) => d.path);
    const [pp, ss] = await Promise.all([primary(paths), secondary(paths)]);
    differences = compareDigests(pp, ss);
  }
  const still = new Set(differences.map((d) => d.path));
  return { entries: p.length, differences, inFlight: first.filter((x) => !still.has(x)) };
}
