// Creating many small files: open(O_CREAT|O_WRONLY|O_TRUNC), write 100 bytes, close — straight to a
// directory, through bindfs (a C libfuse pass-through, not replicating: the baseline the issue names),
// through our FUSE passthrough, and through it replicating to a real secondary over TCP on loopback.
// Every run creates its files in a new subdirectory and nothing is deleted until the end (on this VM's
// journal-less ext4, creates right after deletes are 10x slower, which would favour whoever runs first).
// Targets run round-robin; medians. Needs root, /dev/fuse and bindfs (Debian package `bindfs`).
// Usage: deno run -A scripts/bench/small_files.ts [--files=5000] [--rounds=3] [--dir=/var/tmp] [--tmpfs=/dev/shm] [--secdir=DIR]

import { parseArgs } from "node:util";
import { mountReplicatedDir } from "../../src/rfs/fuse/mod.ts";
import { startReplicatingMount } from "./replication_pair.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    files: { type: "string", default: "5000" },
    rounds: { type: "string", default: "3" },
    dir: { type: "string", default: "/var/tmp" },
    tmpfs: { type: "string", default: "/dev/shm" },
    // On one VM the secondary's copy shares the primary's disk, so every byte hits the same device twice;
    // a real secondary has its own. --secdir puts its copy elsewhere (e.g. /dev/shm) to show that case.
    secdir: { type: "string", default: "" },
    async: { type: "string", default: "second" },
  },
});
const files = Number(values.files), rounds = Number(values.rounds);
const TARGETS = ["direct", "bindfs", "fuse", "replicated"] as const;
type Target = typeof TARGETS[number];

// os.open/os.write: Python's open() would add an isatty ioctl per file (a FUSE round trip each).
const CREATOR = `
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
os.mkdir(d)
data = b"x" * 100
for i in range(n):
    fd = os.open(f"{d}/f{i}", os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    os.write(fd, data)
    os.close(fd)
`;

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

/** Files per second for one run into a fresh subdirectory of `dir`. */
async function createFiles(dir: string, round: number): Promise<number> {
  const t0 = performance.now();
  await run("python3", ["-c", CREATOR, `${dir}/r${round}`, String(files)]);
  return files / ((performance.now() - t0) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(", ");

async function benchOn(label: string, parent: string): Promise<void> {
  const base = await Deno.makeTempDir({ prefix: "safekit-bench-files-", dir: parent });
  const dirs: Record<Target | "bindfsBacking" | "secondary", string> = {
    direct: `${base}/direct`,
    bindfs: `${base}/bindfs`,
    bindfsBacking: `${base}/bindfs_backing`,
    fuse: `${base}/fuse`,
    replicated: `${base}/replicated`,
    secondary: values.secdir
      ? await Deno.makeTempDir({ prefix: "safekit-bench-sec-", dir: values.secdir })
      : `${base}/secondary`,
  };
  for (const d of Object.values(dirs)) await Deno.mkdir(d, { recursive: true });
  await run("bindfs", [dirs.bindfsBacking, dirs.bindfs]);
  const plain = await mountReplicatedDir(dirs.fuse);
  const pair = await startReplicatingMount(dirs.replicated, dirs.secondary, {
    async: values.async === "none" ? "none" : "second",
  });
  const rate: Record<Target, number[]> = { direct: [], bindfs: [], fuse: [], replicated: [] };
  try {
    for (let r = 0; r < rounds; r++) {
      for (const t of TARGETS) rate[t].push(await createFiles(dirs[t], r));
    }
    let copied = 0;
    for await (const _ of Deno.readDir(`${dirs.secondary}/r0`)) copied++;
    if (copied !== files) throw new Error(`the secondary has ${copied} of ${files} files`);
  } finally {
    await plain.unmount();
    await pair.close();
    await run("umount", [dirs.bindfs]).catch((e) => console.error(e.message));
    await Deno.remove(base, { recursive: true });
    if (values.secdir) await Deno.remove(dirs.secondary, { recursive: true });
  }
  const m = Object.fromEntries(TARGETS.map((t) => [t, median(rate[t])])) as Record<Target, number>;
  console.log(`\n== ${label} (${parent}): ${files} files of 100 B, files/s median (runs)`);
  for (const t of TARGETS) {
    console.log(`  ${t.padEnd(22)} ${m[t].toFixed(0).padStart(7)}   (${fmt(rate[t])})`);
  }
  console.log(`  ratio FUSE / bindfs               ${(m.fuse / m.bindfs).toFixed(2)}`);
  console.log(`  ratio replicated / bindfs         ${(m.replicated / m.bindfs).toFixed(2)}`);
}

console.log(`${rounds} rounds round-robin; async="${values.async}"; the secondary is a separate process`);
await benchOn("disk", values.dir!);
if (values.tmpfs !== "") await benchOn("tmpfs", values.tmpfs!);
