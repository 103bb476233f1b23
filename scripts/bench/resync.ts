// Reintegration throughput: a full reintegration of N MB in M files from a primary tree into an empty
// secondary tree over loopback TCP — the primary's ReplicationClient in a child process (as on two
// nodes, each side has its own CPU), the ReplicationServer + reintegrate here — against `rsync -a` of the
// same tree into another empty directory, in the same run. Then the same two on the unchanged trees (the
// "nothing to copy" pass, which measures the walk and compare cost).
// Usage: deno run -A scripts/bench/resync.ts [--mb=200] [--files=2000] [--nbrei=6] [--dir=/var/tmp]
//        [--same-process] (both sides on one JS thread)

import { parseArgs } from "node:util";
import { join } from "node:path";
import { openTreeRoot } from "../../src/rfs/beneath_root.ts";
import { ReplicationClient } from "../../src/rfs/replication_client.ts";
import { ReplicationServer } from "../../src/rfs/replication_server.ts";
import { reintegrate } from "../../src/rfs/reintegration.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    mb: { type: "string", default: "200" },
    files: { type: "string", default: "2000" },
    nbrei: { type: "string", default: "6" },
    dir: { type: "string" },
    "same-process": { type: "boolean", default: false },
    // internal: the child that plays the primary
    "primary-of": { type: "string" },
    port: { type: "string" },
    key: { type: "string" },
  },
});

function primaryClient(dir: string, port: number, key: Uint8Array) {
  const root = openTreeRoot(dir);
  const client = new ReplicationClient({
    host: "127.0.0.72",
    port,
    clusterKey: key,
    node: "primary",
    module: "bench",
    roots: [root.fd],
    async: "second",
    lockTimeoutMs: 100_000,
    sendTimeoutMs: 30_000,
  });
  return { client, root };
}

if (values["primary-of"] !== undefined) {
  const key = Uint8Array.from(values.key!.match(/../g)!.map((h) => parseInt(h, 16)));
  const { client } = primaryClient(values["primary-of"], Number(values.port), key);
  await client.connect();
  console.log("connected");
  await new Promise(() => {}); // serves reintegration requests until killed
}
const mb = Number(values.mb), files = Number(values.files), nbRei = Number(values.nbrei);
const base = await Deno.makeTempDir({ prefix: "safekit-bench-resync-", dir: values.dir });
const prim = join(base, "primary"), sec = join(base, "secondary"), rs = join(base, "rsync");
for (const d of [prim, sec, rs]) await Deno.mkdir(d);

// Sizes spread from small to large (a few big files carry most bytes, as in real trees).
const weights = Array.from({ length: files }, (_, i) => 1 / (1 + (i % 97)));
const total = weights.reduce((a, b) => a + b, 0);
const chunk = crypto.getRandomValues(new Uint8Array(65536));
let written = 0;
for (let i = 0; i < files; i++) {
  const size = Math.floor((weights[i] / total) * mb * (1 << 20));
  const dir = join(prim, `d${i % 40}`, `s${i % 7}`);
  await Deno.mkdir(dir, { recursive: true });
  const data = new Uint8Array(size);
  for (let o = 0; o < size; o += chunk.length) {
    data.set(chunk.subarray(0, Math.min(chunk.length, size - o)), o);
  }
  data[0] = i & 0xff; // no two files alike
  await Deno.writeFile(join(dir, `f${i}`), data);
  written += size;
}

const key = crypto.getRandomValues(new Uint8Array(32));
const server = new ReplicationServer({
  hostname: "127.0.0.72",
  port: 0,
  clusterKey: key,
  module: "bench",
  dirs: [sec],
});
server.start();
let stopPrimary: () => Promise<void>;
if (values["same-process"]) {
  const { client, root } = primaryClient(prim, server.port, key);
  await client.connect();
  stopPrimary = async () => {
    await client.close();
    root.close();
  };
} else {
  const hex = [...key].map((b) => b.toString(16).padStart(2, "0")).join("");
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      `--primary-of=${prim}`,
      `--port=${server.port}`,
      `--key=${hex}`,
    ],
    stdout: "null",
  }).spawn();
  stopPrimary = async () => {
    child.kill("SIGKILL");
    await child.status;
  };
}
const session = await server.waitForSession(5000);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}
const rei = (mode: "full" | "zones") =>
  reintegrate({ session, dirs: [{ dir: prim }], mode, nbRei, reiPacketSize: 8 << 20, reiTimeoutMs: 150_000 });
const hasRsync =
  new Deno.Command("sh", { args: ["-c", "command -v rsync"], stdout: "null" }).outputSync().success;
const rsync = () => new Deno.Command("rsync", { args: ["-a", `${prim}/`, `${rs}/`] }).output();

const reiFull = await timed(() => rei("full"));
const rsyncFull = hasRsync ? await timed(rsync) : NaN;
const reiNoop = await timed(() => rei("zones"));
const rsyncNoop = hasRsync ? await timed(rsync) : NaN;

const MB = written / (1 << 20);
const line = (what: string, secs: number) =>
  `${what.padEnd(34)} ${secs.toFixed(2).padStart(7)} s ${(MB / secs).toFixed(0).padStart(6)} MB/s`;
const where = values["same-process"] ? "both sides in one process" : "primary in a child process";
console.log(
  `tree: ${MB.toFixed(0)} MB in ${files} files, ${nbRei} workers, ${where}, ${new Date().toISOString()}`,
);
console.log(line("reintegration full (loopback TCP)", reiFull));
if (hasRsync) console.log(line("rsync -a (local)", rsyncFull));
console.log(`${"reintegration, unchanged tree".padEnd(34)} ${reiNoop.toFixed(2).padStart(7)} s`);
if (hasRsync) console.log(`${"rsync -a, unchanged tree".padEnd(34)} ${rsyncNoop.toFixed(2).padStart(7)} s`);
if (hasRsync) {
  console.log(`ratio reintegration / rsync throughput (full copy): ${(rsyncFull / reiFull).toFixed(2)}`);
} else console.log("rsync is not installed: no comparison (apt-get install -y rsync)");

await stopPrimary();
await server.close();
await Deno.remove(base, { recursive: true });
