// Durability and equality of replicated directories between two real node services (docs/replication.md,
// "Durability tests"): a crash of the whole primary (node service, its FUSE/replication child and the
// application) loses no acknowledged fsync; a seeded random exerciser leaves both copies equal after phases
// with the pair connected, with the secondary stopped, and while it reintegrates.
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { skipUnless } from "../support/privileges.ts";
import { type TestNode, withNodes } from "./node_harness.ts";
import { MODULE, setupMirror, stateOf, waitState } from "./mirror_harness.ts";
import { missingRecords } from "./support_replication/record_line.ts";
import { newSeed, seededRandom } from "./support_replication/seeded_random.ts";
import { snapshotDiff, treeSnapshot } from "./support_replication/tree_snapshot.ts";
import { runRandomOps } from "./support_replication/random_ops.ts";

const NODES: [string, string][] = [["node1", "127.0.0.2"], ["node2", "127.0.0.3"]];
const RFS = `<rfs async="none" locktimeout="5s" sendtimeout="5s"><replicated dir="%SAFEVAR%/data"/></rfs>`;
const WRITER = fileURLToPath(new URL("./support_replication/acked_writer.ts", import.meta.url));

const skip = skipUnless({ root: true, devices: ["/dev/fuse"] });

/** Seeds from SEEDS=1,2,3 (to replay a failure), else fresh ones. */
function seeds(n: number): number[] {
  const env = Deno.env.get("SEEDS");
  return env ? env.split(",").map(Number) : Array.from({ length: n }, newSeed);
}

const dataOf = (n: TestNode) => join(n.safevar, "data");

async function pair(n1: TestNode, n2: TestNode, root: string): Promise<void> {
  for (const n of [n1, n2]) await Deno.mkdir(dataOf(n), { recursive: true });
  await setupMirror(n1, n2, root, { extra: RFS });
  await n1.ok("prim", "-m", MODULE);
  await waitState(n1, "ALONE Ready");
  await n2.ok("second", "-m", MODULE);
  await waitState(n2, "SECOND Ready", 30_000);
  await waitState(n1, "PRIM Ready");
}

/** The `safekit rfs-primary` children of a node service (found by parent pid in /proc). */
function rfsPrimaryPids(daemonPid: number): number[] {
  const pids: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).split("\0");
      if (ppid === daemonPid && cmd.includes("rfs-primary")) pids.push(Number(e.name));
    } catch { /* gone meanwhile */ }
  }
  return pids;
}

/** Starts the writer; `acked()` is the highest record number it printed (its fsync had returned). */
function startWriter(file: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-prompt", WRITER, file],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let acked = 0;
  const firstAck = Promise.withResolvers<void>();
  const reading = (async () => {
    let buf = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        acked = Number(buf.slice(0, i));
        buf = buf.slice(i + 1);
        firstAck.resolve();
      }
    }
  })();
  const stderr = new Response(child.stderr).text();
  child.status.then(() => firstAck.reject(new Error("the writer exited before its first record")));
  return { child, acked: () => acked, firstAck: firstAck.promise, reading, stderr };
}

Deno.test({
  name:
    "replication durability: killing the primary's node service, rfs-primary and writer loses no fsync'ed record",
  ignore: skip !== null,
  async fn() {
    await withNodes(NODES, async (nodes, root) => {
      await pair(nodes[0], nodes[1], root);
      for (const [round, seed] of seeds(3).entries()) {
        // Roles alternate: the killed primary comes back as SECOND and the survivor is the next primary.
        const [prim, second] = round % 2 === 0 ? nodes : [nodes[1], nodes[0]];
        const rnd = seededRandom(seed);
        const delayMs = 300 + rnd.int(2500);
        console.log(`round ${round}: seed ${seed}, kill ${prim.name} ${delayMs} ms after the first ack`);
        const file = `log-${round}.txt`;
        const writer = startWriter(join(dataOf(prim), file));
        await writer.firstAck;
        await new Promise((r) => setTimeout(r, delayMs));

        const daemonPid = prim.child!.pid;
        const rfsPids = rfsPrimaryPids(daemonPid);
        assert.equal(rfsPids.length, 1, `one rfs-primary child of ${prim.name}'s node service`);
        // All three in one synchronous stretch: nothing runs in between.
        prim.kill("SIGKILL");
        for (const pid of rfsPids) Deno.kill(pid, "SIGKILL");
        writer.child.kill("SIGKILL");
        await writer.reading;
        await writer.child.status;
        await prim.waitExit();
        const acked = writer.acked();
        assert.ok(acked > 0);

        await waitState(second, "ALONE Ready", 15_000);
        const text = await Deno.readTextFile(join(dataOf(second), file));
        const missing = missingRecords(text, acked);
        assert.deepEqual(
          missing.slice(0, 20),
          [],
          `seed ${seed}: ${missing.length} of ${acked} acknowledged records missing on ${second.name}`,
        );
        console.log(`round ${round}: ${acked} acknowledged records, all on ${second.name}`);

        // Reset the pair: the crashed node service restarts and its module comes back as SECOND.
        await prim.start();
        if ((await stateOf(prim))?.local === "STOP") await prim.ok("start", "-m", MODULE);
        await waitState(prim, "SECOND Ready", 40_000);
        await waitState(second, "PRIM Ready");
        assert.deepEqual(
          snapshotDiff(await treeSnapshot(dataOf(second)), await treeSnapshot(dataOf(prim))),
          [],
        );
      }
    });
  },
});

Deno.test({
  name:
    "replication exerciser: random operations leave both copies equal, paired, with the secondary stopped, and during reintegration",
  ignore: skip !== null,
  async fn() {
    const [seed] = seeds(1);
    const rnd = seededRandom(seed);
    console.log(`exerciser seed ${seed}`);
    await withNodes(NODES, async ([n1, n2], root) => {
      await pair(n1, n2, root);
      const d1 = dataOf(n1), d2 = dataOf(n2);
      const check = async (phase: string) => {
        const diff = snapshotDiff(await treeSnapshot(d1), await treeSnapshot(d2));
        assert.deepEqual(diff, [], `seed ${seed}, after ${phase}: the copies differ`);
      };
      const phase = async (name: string, count: number, ms: number) => {
        const r = await runRandomOps(d1, rnd, count, Date.now() + ms).catch((e) => {
          throw new Error(`seed ${seed}, ${name}: ${(e as Error).message}`);
        });
        console.log(`${name}: ${r.done} ops (${JSON.stringify(r.byOp)}), ${r.refused} refused`);
      };
      for (let round = 0; round < 2; round++) {
        await phase(`round ${round} paired`, 800, 12_000);
        await check(`round ${round} paired`);

        await n2.ok("stop", "-m", MODULE);
        await waitState(n1, "ALONE Ready", 15_000);
        await phase(`round ${round} secondary stopped`, 800, 12_000);

        await n2.ok("start", "-m", MODULE);
        // Round 0 writes nothing while the secondary reintegrates, round 1 keeps writing during it.
        if (round === 1) await phase(`round ${round} during reintegration`, 300, 4_000);
        await waitState(n2, "SECOND Ready", 40_000);
        await waitState(n1, "PRIM Ready");
        await check(`round ${round} reintegration`);
      }
      await phase("final paired", 500, 10_000);
      await check("final paired");
    });
  },
});
