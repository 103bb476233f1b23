// A checksum listing of one replicated directory, for `safekit rfsverify` (spec §3.7, §7.2): every entry the
// replication filter lets through, with its type, mode, owner, size, symlink target and the SHA-256 of a
// regular file's bytes. Each node lists its own copy; compare_digests.ts says how two listings differ.
// Read-only: it never changes the tree, so it runs while the application writes on the primary (a file that
// changes during the walk shows up as a difference that the verifier re-checks before reporting it).
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { ReplicationFilter } from "../replication_filter.ts";

export type DigestEntry = {
  /** relative to the replicated directory, "/"-separated, never "." */
  readonly path: string;
  readonly kind: "file" | "dir" | "symlink" | "other";
  /** permission bits and setuid/setgid/sticky (mode & 0o7777) */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtimeMs: number;
  /** hex SHA-256 of a regular file's content */
  readonly sha256?: string;
  /** a symbolic link's target */
  readonly target?: string;
};

export type DigestOptions = {
  readonly filter: ReplicationFilter;
  /** list only these paths (a re-check of suspected differences); absent ones are simply not listed */
  readonly only?: readonly string[];
  /** refuse trees larger than this many entries rather than build an unbounded answer */
  readonly maxEntries?: number;
};

export const DEFAULT_MAX_ENTRIES = 2_000_000;
const CHUNK = 1 << 20;

export async function digestTree(root: string, opts: DigestOptions): Promise<DigestEntry[]> {
  const out: DigestEntry[] = [];
  const max = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  if (opts.only) {
    for (const p of opts.only) {
      if (!isSafeRelative(p)) throw new Error(`'${p}': not a path inside the replicated directory`);
      const e = await digestEntry(root, p).catch(() => null);
      if (e && opts.filter.isReplicated(p, e.kind === "dir")) out.push(e);
    }
    return out.sort(byPath);
  }
  const walk = async (rel: string): Promise<void> => {
    const names: string[] = [];
    for await (const d of Deno.readDir(rel === "" ? root : join(root, rel))) names.push(d.name);
    names.sort();
    for (const name of names) {
      const p = rel === "" ? name : `${rel}/${name}`;
      // Removed between readDir and lstat (the application is running): not an error, just not listed.
      const e = await digestEntry(root, p).catch(() => null);
      if (!e || !opts.filter.isReplicated(p, e.kind === "dir")) continue;
      if (out.length >= max) {
        throw new Error(`more than ${max} entries: the tree is too large to verify at once`);
      }
      out.push(e);
      if (e.kind === "dir") await walk(p);
    }
  };
  await walk("");
  return out.sort(byPath);
}

/** A relative path with no "..", no ".", no empty component, not absolute. */
export function isSafeRelative(p: string): boolean {
  if (p === "" || p.startsWith("/") || p.includes("\0")) return false;
  return p.split("/").every((c) => c !== "" && c !== "." && c !== "..");
}

async function digestEntry(root: string, rel: string): Promise<DigestEntry> {
  const full = join(root, rel);
  const st = await Deno.lstat(full);
  const base = {
    path: rel,
    mode: (st.mode ?? 0) & 0o7777,
    uid: st.uid ?? 0,
    gid: st.gid ?? 0,
    size: st.isFile ? st.size : 0,
    mtimeMs: st.mtime?.getTime() ?? 0,
  };
  if (st.isSymlink) return { ...base, kind: "symlink", target: await Deno.readLink(full) };
  if (st.isDirectory) return { ...base, kind: "dir" };
  if (!st.isFile) return { ...base, kind: "other" };
  return { ...base, kind: "file", sha256: await sha256File(full) };
}

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  const f = await Deno.open(path, { read: true });
  try {
    const buf = new Uint8Array(CHUNK);
    for (;;) {
      const n = await f.read(buf);
      if (n === null) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    f.close();
  }
  return h.digest("hex");
}

function byPath(a: DigestEntry, b: DigestEntry): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}
