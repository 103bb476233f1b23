// Lab TCP client, three modes:
//   count VIP PORT N CONCURRENCY  -> one JSON line {name: count, ..., "TIMEOUT": n, "ERR:..": n}
//   probe VIP PORT EXPECT DEADLINE_MS -> connects every 50 ms until EXPECT answers; prints {"at": epoch ms}
//   hold VIP PORT -> connects, prints "connected <name>", then the way the connection ended
//   hold-echo VIP PORT DELAY_MS -> connects, prints "connected <name>", waits, sends "ping" and prints
//     "echo <reply>" or how it failed (2 s timeout)
const [mode, vip, portS, a, b] = Deno.args;
const port = Number(portS);
const dec = new TextDecoder();

async function ask(timeoutMs: number, keep = false): Promise<{ who: string; conn?: Deno.TcpConn }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let conn: Deno.TcpConn | undefined;
  try {
    const timeout = new Promise<never>((
      _,
      rej,
    ) => (timer = setTimeout(() => rej(new Error("TIMEOUT")), timeoutMs)));
    conn = await Promise.race([Deno.connect({ hostname: vip, port }), timeout]);
    const buf = new Uint8Array(64);
    const n = await Promise.race([conn.read(buf), timeout]);
    const who = n ? dec.decode(buf.subarray(0, n)) : "EMPTY";
    if (!keep) conn.close();
    return { who, conn };
  } catch (e) {
    try {
      conn?.close();
    } catch { /* closed */ }
    const m = (e as Error).message;
    return { who: m === "TIMEOUT" ? "TIMEOUT" : `ERR:${(e as Error).name}` };
  } finally {
    clearTimeout(timer);
  }
}

if (mode === "count") {
  const total = Number(a);
  const counts: Record<string, number> = {};
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      const { who } = await ask(2000);
      counts[who] = (counts[who] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: Number(b) }, worker));
  console.log(JSON.stringify(counts));
} else if (mode === "probe") {
  const deadline = Date.now() + Number(b);
  console.log("ready");
  while (Date.now() < deadline) {
    const { who } = await ask(200);
    if (who === a) {
      console.log(JSON.stringify({ at: Date.now() }));
      Deno.exit(0);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  console.log(JSON.stringify({ at: null }));
} else if (mode === "hold") {
  const { who, conn } = await ask(2000, true);
  console.log(`connected ${who}`);
  if (!conn) Deno.exit(1);
  try {
    const n = await conn.read(new Uint8Array(16));
    console.log(n === null ? "eof" : "data");
  } catch (e) {
    console.log((e as Error).name);
  }
} else if (mode === "hold-echo") {
  const { who, conn } = await ask(2000, true);
  console.log(`connected ${who}`);
  if (!conn) Deno.exit(1);
  await new Promise((r) => setTimeout(r, Number(a)));
  const { who: reply } = await (async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await conn.write(new TextEncoder().encode("ping"));
      const buf = new Uint8Array(16);
      const n = await Promise.race([
        conn.read(buf),
        new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error("TIMEOUT")), 2000))),
      ]);
      return { who: n ? `echo ${dec.decode(buf.subarray(0, n))}` : "eof" };
    } catch (e) {
      return { who: (e as Error).message === "TIMEOUT" ? "TIMEOUT" : (e as Error).name };
    } finally {
      clearTimeout(timer);
    }
  })();
  console.log(reply);
}
