// Sequential writes with fsync, straight to a directory vs through the FUSE passthrough mounted over a
// directory of the same file system, and through the passthrough replicating to a real secondary (a
// ReplicationServer in its own process) over TCP on loopback. Two workloads:
//   1 MiB   dd bs=1M count=N conv=fsync          (throughput, MB/s)
//   4 KiB   dd bs=4k count=N oflag=dsync         (every write is synchronous: latency per write, µs)
// on the file system of --dir (ext4 on the dev VM) and on tmpfs (/dev/shm), which isolates the FUSE and
// network cost from the disk. Targets run round-robin so that noise spreads over all of them; medians.
// Needs root and /dev/fuse.
// Usage: deno run -A scripts/bench/fuse_write.ts [--mib=200] [--small=2000] [--rounds=3] [--dir=/var/tmp]
//        [--tmpfs=/dev/shm] [--secdir=DIR] [--async=second|none] [--writeback]

import { parseArgs } from "node:util";
import { mountReplicatedDir } from "../../src/rfs/fuse/mod.ts";
import { startReplicatingMount } from "./replication_pair.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    mib: { type: "string", default: "200" },
    small: { type: "string", default: "2000" },
    rounds: { type: "string", default: "3" },
    dir: { type: "string", default: "/var/tmp" },
    tmpfs: { type: "string", default: "/dev/shm" },
    // On one VM the secondary's copy shares the primary's disk, so every byte hits the same device twice;
    // a real secondary has its own. --secdir puts its copy elsewhere (e.g. /dev/shm) to show that case.
    secdir: { type: "string", default: "" },
    async: { type: "string", default: "second" },
    writeback: { type: "boolean", default: false },
  },
});
const mib = Number(values.mib), small = Number(values.small), rounds = Number(values.rounds);
const asyncMode = values.async === "none" ? "none" : "second";
const TARGETS = ["direct", "fuse", "replicated"] as const;
type Target = typeof TARGETS[number];

async function dd(dir: string, args: string[]): Promise<number> {
  await Deno.remove(`${dir}/f.bin`).catch(() => {});
  const t0 = performance.now();
  // The mount is touched only from subprocesses and async APIs: its server runs in this process.
  const out = await new Deno.Command("dd", {
    args: ["if=/dev/zero", `of=${dir}/f.bin`, "status=none", ...args],
  })
    .output();
  const s = (performance.now() - t0) / 1000;
  if (!out.success) throw new Error(`dd into ${dir} failed: ${new TextDecoder().decode(out.stderr)}`);
  return s;
}

/** Clock ticks per second of /proc/<pid>/stat's times. */
const CLK_TCK =
  Number(new TextDecoder().decode(new Deno.Command("getconf", { args: ["CLK_TCK"] }).outputSync().stdout)) ||
  100;

/** CPU (user + system) used so far by a process, and by its reaped children, in ms. */
function cpuMs(pid: number | "self"): { own: number; children: number } {
  // Fields after the command name: state is [0], utime [11], stime [12], cutime [13], cstime [14].
  const f = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  const ms = (i: number) => (Number(f[i]) * 1000) / CLK_TCK;
  return { own: ms(11) + ms(12), children: ms(13) + ms(14) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(", ");

async function benchOn(fsLabel: string, parent: string): Promise<void> {
  const base = await Deno.makeTempDir({ prefix: "safekit-bench-fuse-", dir: parent });
  const dirs: Record<Target | "secondary", string> = {
    direct: `${base}/direct`,
    fuse: `${base}/fuse`,
    replicated: `${base}/replicated`,
    secondary: values.secdir
      ? await Deno.makeTempDir({ prefix: "safekit-bench-sec-", dir: values.secdir })
      : `${base}/secondary`,
  };
  for (const d of Object.values(dirs)) await Deno.mkdir(d, { recursive: true });
  const mountOpts = { writebackCache: values.writeback };
  // The plain mount never passes reads through, the replicated one does where the kernel offers it: the
  // read figures compare the two.
  const plain = await mountReplicatedDir(dirs.fuse, { ...mountOpts, passthrough: false });
  const pair = await startReplicatingMount(dirs.replicated, dirs.secondary, {
    async: asyncMode,
    ...mountOpts,
  });
  const big: Record<Target, number[]> = { direct: [], fuse: [], replicated: [] };
  // CPU per MiB of the replicated 1 MiB runs: this process (the primary's FUSE server and replication
  // client), the secondary's process, and dd with the kernel work done in its context.
  const cpu = { primary: 0, secondary: 0, dd: 0 };
  const lat: Record<Target, number[]> = { direct: [], fuse: [], replicated: [] };
  const rd = { direct: [] as number[], fuse: [] as number[], passthrough: [] as number[] };
  let passthrough = false;
  try {
    for (let r = 0; r < rounds; r++) {
      for (const t of TARGETS) {
        const before = { self: cpuMs("self"), sec: cpuMs(pair.secondaryPid) };
        const s = await dd(dirs[t], ["bs=1M", `count=${mib}`, "conv=fsync"]);
        big[t].push((mib * 1048576) / s / 1e6);
        if (t === "replicated") {
          const self = cpuMs("self");
          cpu.primary += self.own - before.self.own;
          cpu.dd += self.children - before.self.children;
          cpu.secondary += cpuMs(pair.secondaryPid).own - before.sec.own;
        }
      }
      for (const t of TARGETS) {
        const s = await dd(dirs[t], ["bs=4k", `count=${small}`, "oflag=dsync"]);
        lat[t].push((s / small) * 1e6);
      }
    }
    // Reads of a file in the page cache: direct, through the server, and with FUSE passthrough (a mount
    // without replication: replication does not touch reads). Each file is written once, then read.
    const readDirs = { direct: dirs.direct, fuse: dirs.fuse, passthrough: `${base}/passthrough` } as const;
    await Deno.mkdir(readDirs.passthrough);
    const pt = await mountReplicatedDir(readDirs.passthrough, { passthrough: true });
    try {
      for (const d of Object.values(readDirs)) await dd(d, ["bs=1M", `count=${mib}`, "conv=fsync"]);
      // The writer's RELEASE reaches the server just after dd exits; until then a read-only open is
      // served through the page cache (the kernel refuses passthrough next to a cached open).
      await new Promise((r) => setTimeout(r, 200));
      for (let r = 0; r < rounds; r++) {
        for (const [t, d] of Object.entries(readDirs)) {
          const t0 = performance.now();
          const out = await new Deno.Command("dd", {
            args: [`if=${d}/f.bin`, "of=/dev/null", "bs=1M", "status=none"],
          })
            .output();
          if (!out.success) throw new Error(`dd read in ${d} failed`);
          rd[t as keyof typeof rd].push((mib * 1048576) / ((performance.now() - t0) / 1000) / 1e6);
        }
      }
      passthrough = pt.session.stats.passthrough && pt.fs.passthroughStats.passthroughOpens > 0;
    } finally {
      await pt.unmount();
    }
    await dd(dirs.replicated, ["bs=4k", `count=${small}`, "oflag=dsync"]);
    const sec = await Deno.stat(`${dirs.secondary}/f.bin`);
    if (sec.size !== small * 4096) throw new Error(`the secondary's copy has ${sec.size} bytes`);
  } finally {
    await plain.unmount();
    await pair.close();
    await Deno.remove(base, { recursive: true });
    if (values.secdir) await Deno.remove(dirs.secondary, { recursive: true });
  }
  const b = { d: median(big.direct), f: median(big.fuse), r: median(big.replicated) };
  const l = { d: median(lat.direct), f: median(lat.fuse), r: median(lat.replicated) };
  console.log(
    `\n== ${fsLabel} (${parent}), async="${asyncMode}"${values.writeback ? ", writeback cache" : ""}`,
  );
  console.log(`1 MiB: dd bs=1M count=${mib} conv=fsync, MB/s median (runs)`);
  console.log(`  direct                  ${b.d.toFixed(0).padStart(6)}   (${fmt(big.direct)})`);
  console.log(`  FUSE                    ${b.f.toFixed(0).padStart(6)}   (${fmt(big.fuse)})`);
  console.log(`  FUSE + secondary (TCP)  ${b.r.toFixed(0).padStart(6)}   (${fmt(big.replicated)})`);
  console.log(`  ratio FUSE / direct              ${(b.f / b.d).toFixed(2)}`);
  console.log(`  ratio replicated / direct        ${(b.r / b.d).toFixed(2)}`);
  const perMiB = (ms: number) => (ms / (rounds * mib)).toFixed(2);
  console.log(
    `  CPU per MiB replicated (user+system): primary's process ${perMiB(cpu.primary)} ms, secondary's ` +
      `${perMiB(cpu.secondary)} ms, dd and its kernel work ${perMiB(cpu.dd)} ms`,
  );
  console.log(`4 KiB: dd bs=4k count=${small} oflag=dsync, µs per write median (runs)`);
  console.log(`  direct                  ${l.d.toFixed(0).padStart(6)}   (${fmt(lat.direct)})`);
  console.log(`  FUSE                    ${l.f.toFixed(0).padStart(6)}   (${fmt(lat.fuse)})`);
  console.log(`  FUSE + secondary (TCP)  ${l.r.toFixed(0).padStart(6)}   (${fmt(lat.replicated)})`);
  console.log(
    `  added per write: FUSE ${(l.f - l.d).toFixed(0)} µs, replication ${(l.r - l.f).toFixed(0)} µs`,
  );
  const rm = { d: median(rd.direct), f: median(rd.fuse), r: median(rd.passthrough) };
  console.log(`read ${mib} MiB from the page cache (dd bs=1M), MB/s median (runs)`);
  console.log(`  direct                  ${rm.d.toFixed(0).padStart(6)}   (${fmt(rd.direct)})`);
  console.log(`  FUSE, reads via server  ${rm.f.toFixed(0).padStart(6)}   (${fmt(rd.fuse)})`);
  const how = passthrough ? "FUSE passthrough      " : "FUSE (no passthrough) ";
  console.log(`  ${how}  ${rm.r.toFixed(0).padStart(6)}   (${fmt(rd.passthrough)})`);
}

console.log(`${rounds} rounds round-robin; the secondary is a separate process on ${"127.0.0.91"}`);
await benchOn("disk", values.dir!);
if (values.tmpfs !== "") await benchOn("tmpfs", values.tmpfs!);
