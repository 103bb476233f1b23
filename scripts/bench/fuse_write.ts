// Sequential 1 MiB writes (dd bs=1M conv=fsync) straight to a directory vs through the FUSE passthrough
// mounted over a directory of the same file system, and through the passthrough with a sink that replays
// every op into a second local directory (the secondary's work, without the network).
// Targets run round-robin so that disk noise spreads over all of them; medians are printed.
// Needs root and /dev/fuse. Usage: deno run -A scripts/bench/fuse_write.ts [--mib=200] [--rounds=3] [--dir=/var/tmp]

import { parseArgs } from "node:util";
import { applyTreeOp } from "../../src/rfs/apply_tree_op.ts";
import { openTreeRoot } from "../../src/rfs/beneath_root.ts";
import { mountReplicatedDir } from "../../src/rfs/fuse/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    mib: { type: "string", default: "200" },
    rounds: { type: "string", default: "3" },
    dir: { type: "string" },
  },
});
const mib = Number(values.mib), rounds = Number(values.rounds);
const base = await Deno.makeTempDir({ prefix: "safekit-bench-fuse-", dir: values.dir });
const dirs = {
  direct: `${base}/direct`,
  fuse: `${base}/fuse`,
  fuseReplica: `${base}/fuse_replica`,
  replica: `${base}/replica`,
};
for (const d of Object.values(dirs)) await Deno.mkdir(d);

const replicaRoot = openTreeRoot(dirs.replica);
const plain = await mountReplicatedDir(dirs.fuse);
const replicated = await mountReplicatedDir(dirs.fuseReplica, {
  sink: { apply: (op) => applyTreeOp(replicaRoot, op) },
});

/** One dd run; the mount is touched only from the subprocess and async APIs (the server runs here). */
async function dd(dir: string): Promise<number> {
  await Deno.remove(`${dir}/f.bin`).catch(() => {});
  const t0 = performance.now();
  const out = await new Deno.Command("dd", {
    args: ["if=/dev/zero", `of=${dir}/f.bin`, "bs=1M", `count=${mib}`, "conv=fsync", "status=none"],
  }).output();
  const s = (performance.now() - t0) / 1000;
  if (!out.success) throw new Error(`dd into ${dir} failed: ${new TextDecoder().decode(out.stderr)}`);
  return (mib * 1048576) / s / 1e6;
}

const results: Record<keyof typeof dirs, number[]> = { direct: [], fuse: [], fuseReplica: [], replica: [] };
try {
  for (let r = 0; r < rounds; r++) {
    for (const target of ["direct", "fuse", "fuseReplica"] as const) {
      results[target].push(await dd(dirs[target]));
    }
  }
} finally {
  await plain.unmount();
  await replicated.unmount();
  replicaRoot.close();
  await Deno.remove(base, { recursive: true });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const d = median(results.direct), f = median(results.fuse), fr = median(results.fuseReplica);
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(", ");
console.log(`dd bs=1M count=${mib} conv=fsync, ${rounds} rounds round-robin, MB/s (median; runs)`);
console.log(`direct                         ${d.toFixed(0).padStart(6)}   (${fmt(results.direct)})`);
console.log(`FUSE passthrough               ${f.toFixed(0).padStart(6)}   (${fmt(results.fuse)})`);
console.log(`FUSE + local replica sink      ${fr.toFixed(0).padStart(6)}   (${fmt(results.fuseReplica)})`);
console.log(`ratio FUSE / direct            ${(f / d).toFixed(2)}`);
console.log(`ratio FUSE+replica / direct    ${(fr / d).toFixed(2)}`);
