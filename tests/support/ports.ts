// Several runs can share this machine (a demo, a benchmark, another test run) and the node addresses
// 127.0.0.2/3 with their fixed ports: wait a bounded time for them to be free, then say who is in the way.

export async function accepts(hostname: string, port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname, port })).close();
    return true;
  } catch {
    return false;
  }
}

export async function waitPortsFree(
  addrs: readonly string[],
  port: number,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const busy = [];
    for (const a of addrs) if (await accepts(a, port)) busy.push(a);
    if (busy.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`${busy.map((a) => `${a}:${port}`).join(", ")} already in use by another process`);
    }
    console.error(`waiting for ${busy.join(", ")}:${port} to be free...`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}
