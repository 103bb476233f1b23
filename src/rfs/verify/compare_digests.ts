// How the primary's and the secondary's listings of one replicated directory differ (pure). Times are not
// compared: a write's mtime is set by each node's own clock as it applies the write, so equal trees can carry
// mtimes a few milliseconds apart; contents, sizes, types, modes, owners and link targets must be equal.
import type { DigestEntry } from "./tree_digest.ts";

export type DifferenceKind =
  | "missing on secondary"
  | "missing on primary"
  | "type"
  | "content"
  | "size"
  | "mode"
  | "owner"
  | "symlink target";

export type Difference = {
  readonly path: string;
  readonly kinds: readonly DifferenceKind[];
  /** what each side holds, for the report */
  readonly primary?: DigestEntry;
  readonly secondary?: DigestEntry;
};

export function compareDigests(
  primary: readonly DigestEntry[],
  secondary: readonly DigestEntry[],
): Difference[] {
  const second = new Map(secondary.map((e) => [e.path, e]));
  const out: Difference[] = [];
  for (const p of primary) {
    const s = second.get(p.path);
    second.delete(p.path);
    if (!s) {
      out.push({ path: p.path, kinds: ["missing on secondary"], primary: p });
      continue;
    }
    const kinds = entryDifferences(p, s);
    if (kinds.length) out.push({ path: p.path, kinds, primary: p, secondary: s });
  }
  for (const s of second.values()) out.push({ path: s.path, kinds: ["missing on primary"], secondary: s });
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function entryDifferences(p: DigestEntry, s: DigestEntry): DifferenceKind[] {
  if (p.kind !== s.kind) return ["type"];
  const kinds: DifferenceKind[] = [];
  if (p.kind === "file") {
    if (p.size !== s.size) kinds.push("size");
    if (p.sha256 !== s.sha256) kinds.push("content");
  }
  if (p.kind === "symlink" && p.target !== s.target) kinds.push("symlink target");
  // A symlink's own mode is not meaningful on Linux (always 0777).
  if (p.kind !== "symlink" && p.mode !== s.mode) kinds.push("mode");
  if (p.uid !== s.uid || p.gid !== s.gid) kinds.push("owner");
  return kinds;
}

/** One line a difference, for the CLI and the module log. */
export function describeDifference(d: Difference): string {
  const detail: string[] = [];
  for (const k of d.kinds) {
    if (k === "size") detail.push(`size ${d.primary!.size} vs ${d.secondary!.size}`);
    else if (k === "mode") {
      detail.push(`mode ${d.primary!.mode.toString(8)} vs ${d.secondary!.mode.toString(8)}`);
    } else if (k === "owner") {
      detail.push(`owner ${d.primary!.uid}:${d.primary!.gid} vs ${d.secondary!.uid}:${d.secondary!.gid}`);
    } else if (k === "type") detail.push(`${d.primary!.kind} vs ${d.secondary!.kind}`);
    else if (k === "symlink target") {
      detail.push(`-> ${d.primary!.target} vs -> ${d.secondary!.target}`);
    } else detail.push(k);
  }
  return `${d.path}: ${detail.join(", ")}`;
}
