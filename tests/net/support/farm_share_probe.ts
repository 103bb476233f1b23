// Waits until a farm VIP is served by exactly the expected nodes: batches of 90 connections (16 in flight,
// 300 ms timeout each) until one batch is answered entirely, by every expected node and no other.
// Usage: VIP PORT NAME[,NAME...] DEADLINE_MS. Prints "ready", then {"at": end of that batch (epoch ms) or
// null, "batches": n, "last": counts of the last batch}.
const [vip, portS, expectedS, deadlineS] = Deno.args;
const port = Number(portS);
const expected = new Set(expectedS.split(","));
const deadline = Date.now() + Number(deadlineS);
const dec = new TextDecoder();

async function ask(): Promise<string> {
  let conn: Deno.TcpConn | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error("TIMEOUT")), 300)));
  try {
    conn = await Promise.race([Deno.connect({ hostname: vip, port }), timeout]);
    const buf = new Uint8Array(64);
    const n = await Promise.race([conn.read(buf), timeout]);
    return n ? dec.decode(buf.subarray(0, n)) : "EMPTY";
  } catch (e) {
    return (e as Error).message === "TIMEOUT" ? "TIMEOUT" : `ERR:${(e as Error).name}`;
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch { /* closed */ }
  }
}

async function batch(total: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let next = 0;
  const worker = async () => {
    while (next++ < total) {
      const who = await ask();
      counts[who] = (counts[who] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return counts;
}

console.log("ready");
let batches = 0;
let last: Record<string, number> = {};
while (Date.now() < deadline) {
  last = await batch(90);
  batches++;
  const names = Object.keys(last);
  if (names.length === expected.size && names.every((n) => expected.has(n))) {
    console.log(JSON.stringify({ at: Date.now(), batches, last }));
    Deno.exit(0);
  }
}
console.log(JSON.stringify({ at: null, batches, last }));
