import assert from "node:assert/strict";
import { SnapshotHub } from "../../../src/web/events/snapshot_hub.ts";
import { type ParsedSseEvent, SseParser } from "../../../src/web/events/sse_format.ts";

/** Reads a stream's events as they come. */
function reader(stream: ReadableStream<Uint8Array>) {
  const r = stream.getReader();
  const dec = new TextDecoder();
  const parser = new SseParser();
  const queue: ParsedSseEvent[] = [];
  const raw: string[] = [];
  return {
    raw,
    async next(): Promise<ParsedSseEvent> {
      // The hub's timers are unref'd (they never keep a node alive): this one keeps the test's loop going.
      const hold = setTimeout(() => {}, 5000);
      try {
        return await this.read();
      } finally {
        clearTimeout(hold);
      }
    },
    async read(): Promise<ParsedSseEvent> {
      while (queue.length === 0) {
        const { value, done } = await r.read();
        if (done) throw new Error("stream ended");
        const text = dec.decode(value, { stream: true });
        raw.push(text);
        queue.push(...parser.push(text));
      }
      return queue.shift()!;
    },
    cancel: () => r.cancel(),
  };
}

function hubOf(
  get: () => unknown,
  o: Partial<{ tickMs: number; keepAliveMs: number; maxClients: number; maxLifetimeMs: number }> = {},
) {
  return new SnapshotHub({
    event: "modules",
    snapshot: get,
    tickMs: o.tickMs ?? 60_000,
    keepAliveMs: o.keepAliveMs ?? 60_000,
    maxClients: o.maxClients ?? 10,
    maxLifetimeMs: o.maxLifetimeMs,
  });
}

Deno.test("snapshot hub: a client gets the current snapshot at connect, then only changes", async () => {
  let state = { n: 1 };
  let calls = 0;
  const hub = hubOf(() => (calls++, state));
  const c = reader(hub.connect()!);
  assert.deepEqual(await c.next(), { event: "modules", data: '{"n":1}', id: "1" });
  await hub.refresh(); // unchanged: nothing sent
  state = { n: 2 };
  await hub.refresh();
  assert.deepEqual(await c.next(), { event: "modules", data: '{"n":2}', id: "2" });
  assert.equal(calls, 3);
  await c.cancel();
  hub.close();
});

Deno.test("snapshot hub: a late client gets the last snapshot without a new one being taken", async () => {
  let calls = 0;
  const hub = hubOf(() => ({ calls: ++calls }));
  const a = reader(hub.connect()!);
  await a.next();
  const b = reader(hub.connect()!);
  assert.deepEqual(await b.next(), { event: "modules", data: '{"calls":1}', id: "1" });
  assert.equal(calls, 1);
  await a.cancel();
  await b.cancel();
  hub.close();
});

Deno.test("snapshot hub: the tick finds a change without anyone calling refresh", async () => {
  let v = "a";
  const hub = hubOf(() => v, { tickMs: 20 });
  const c = reader(hub.connect()!);
  assert.equal((await c.next()).data, '"a"');
  v = "b";
  assert.equal((await c.next()).data, '"b"');
  await c.cancel();
  hub.close();
});

Deno.test("snapshot hub: keep-alive comments flow while nothing changes", async () => {
  const hub = hubOf(() => 1, { keepAliveMs: 20 });
  const c = reader(hub.connect()!);
  await c.next();
  const started = Date.now();
  while (!c.raw.join("").includes(": keep-alive") && Date.now() - started < 2000) {
    await Promise.race([c.next(), new Promise((r) => setTimeout(r, 30))]);
  }
  assert.match(c.raw.join(""), /: keep-alive\n\n/);
  await c.cancel();
  hub.close();
});

Deno.test("snapshot hub: refuses clients beyond the bound, and a closed client frees its place", async () => {
  const hub = hubOf(() => 1, { maxClients: 2 });
  const a = reader(hub.connect()!);
  const b = reader(hub.connect()!);
  await a.next();
  await b.next();
  assert.equal(hub.connect(), null);
  assert.equal(hub.clientCount, 2);
  await a.cancel();
  assert.equal(hub.clientCount, 1);
  const c = hub.connect();
  assert.ok(c);
  await c.cancel();
  await b.cancel();
  assert.equal(hub.clientCount, 0);
  hub.close();
});

Deno.test("snapshot hub: a failing snapshot is reported as a comment and the stream stays open", async () => {
  let fail = true;
  const hub = hubOf(() => {
    if (fail) throw new Error("node2 unreachable");
    return "ok";
  });
  const c = reader(hub.connect()!);
  await hub.refresh();
  fail = false;
  await hub.refresh();
  assert.equal((await c.next()).data, '"ok"');
  assert.match(c.raw.join(""), /: snapshot failed: node2 unreachable/);
  await c.cancel();
  hub.close();
});

Deno.test("snapshot hub: a stream ends after its lifetime, so the client reconnects and logs in again", async () => {
  const hub = hubOf(() => 1, { maxLifetimeMs: 50 });
  const c = reader(hub.connect()!);
  await c.next();
  await assert.rejects(() => c.next(), /stream ended/);
  assert.equal(hub.clientCount, 0);
  hub.close();
});
