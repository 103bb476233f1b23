// A seeded random-operation exerciser for a replicated directory: the everyday calls an application makes
// (create, write at random offsets, truncate, rename — over an existing file too —, unlink, mkdir, rmdir,
// symlink, chmod, utimes) on a small pool of names so that operations keep colliding. Expected refusals
// (a name that does not exist, a directory that is not empty...) are counted; any other error (EIO above
// all) fails the run.
import { join } from "node:path";
import type { Random } from "./seeded_random.ts";

const DIRS = ["", "a", "b", "a/c"];
const NAMES = ["f0", "f1", "f2", "f3", "f4", "f5", "l0", "l1"];
const MODES = [0o600, 0o644, 0o640, 0o755, 0o700, 0o664];
/** errno an application must expect from these calls on a pool of colliding names. */
const EXPECTED = new Set([
  2, /* ENOENT */
  17, /* EEXIST */
  20, /* ENOTDIR */
  21, /* EISDIR */
  22, /* EINVAL */
  39, /* ENOTEMPTY */
  40, /* ELOOP */
]);

export type OpsResult = { done: number; refused: number; byOp: Record<string, number> };

/** Mostly names in directories that exist (so that most operations do something), sometimes anywhere. */
function randomPath(root: string, rnd: Random): string {
  const existing = DIRS.filter((d) => {
    try {
      return Deno.lstatSync(join(root, d)).isDirectory;
    } catch {
      return false;
    }
  });
  const dir = rnd.int(10) === 0 || existing.length === 0 ? rnd.pick(DIRS) : rnd.pick(existing);
  return dir && rnd.int(5) === 0 ? dir : join(dir, rnd.pick(NAMES));
}

function errnoOf(e: unknown): number | null {
  const m = /os error (\d+)/.exec((e as Error)?.message ?? "");
  return m ? Number(m[1]) : null;
}

async function writeAt(path: string, rnd: Random): Promise<void> {
  const f = await Deno.open(path, { create: true, write: true });
  try {
    const data = new Uint8Array(1 + rnd.int(rnd.int(4) === 0 ? 200_000 : 8_000));
    for (let i = 0; i < data.length; i += 997) data[i] = rnd.int(256);
    await f.seek(rnd.int(300_000), Deno.SeekMode.Start);
    for (let done = 0; done < data.length;) done += await f.write(data.subarray(done));
    if (rnd.int(4) === 0) await f.sync();
  } finally {
    f.close();
  }
}

async function oneOp(root: string, rnd: Random): Promise<string> {
  const p = join(root, randomPath(root, rnd));
  const kind = rnd.int(100);
  if (kind < 12) {
    await Deno.writeFile(p, new TextEncoder().encode(`created ${rnd.int(1e9)}\n`), {
      createNew: rnd.int(2) === 0,
    });
    return "create";
  }
  if (kind < 40) return await writeAt(p, rnd), "write";
  if (kind < 48) return await Deno.truncate(p, rnd.int(250_000)), "truncate";
  if (kind < 60) return await Deno.rename(p, join(root, randomPath(root, rnd))), "rename";
  if (kind < 68) return await Deno.remove(p), "unlink";
  if (kind < 74) return await Deno.mkdir(join(root, rnd.pick(DIRS.slice(1)))), "mkdir";
  if (kind < 78) return await Deno.remove(join(root, rnd.pick(DIRS.slice(1)))), "rmdir";
  if (kind < 85) return await Deno.symlink(rnd.pick(["f0", "../f1", "a/c/f2", "nowhere"]), p), "symlink";
  if (kind < 93) return await Deno.chmod(p, rnd.pick(MODES)), "chmod";
  const t = new Date(1_600_000_000_000 + rnd.int(1e11));
  return await Deno.utime(p, t, t), "utimes";
}

/** Runs up to `count` operations under `root`, stopping early at `deadline` (epoch ms). */
export async function runRandomOps(
  root: string,
  rnd: Random,
  count: number,
  deadline: number,
): Promise<OpsResult> {
  const r: OpsResult = { done: 0, refused: 0, byOp: {} };
  for (let i = 0; i < count && Date.now() < deadline; i++) {
    try {
      const op = await oneOp(root, rnd);
      r.byOp[op] = (r.byOp[op] ?? 0) + 1;
      r.done++;
    } catch (e) {
      if (!EXPECTED.has(errnoOf(e) ?? -1)) {
        throw new Error(`operation ${i} failed unexpectedly: ${(e as Error).message}`);
      }
      r.refused++;
    }
  }
  return r;
}
