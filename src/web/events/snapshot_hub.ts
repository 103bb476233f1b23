// Fans one changing snapshot out to many server-sent-event clients. While at least one client listens, the
// hub takes a snapshot every tick, serialises it once and, when the text differs from the last one, writes
// it to every client; a new client gets the current snapshot at once. Comparing serialised snapshots (not
// hooking every state change) also catches changes on other nodes, which send no notification to this one.
// The cost per tick is one snapshot, whatever the number of clients; no client, no tick.
import { sseComment, sseEvent, sseRetry } from "./sse_format.ts";

export type SnapshotHubOptions = {
  /** The SSE event name, e.g. "modules". */
  readonly event: string;
  /** Produces the current state; called at most once per tick, never concurrently. */
  readonly snapshot: () => Promise<unknown> | unknown;
  readonly tickMs: number;
  readonly keepAliveMs: number;
  readonly maxClients: number;
  /** How long the browser waits before reconnecting (the `retry:` field). */
  readonly retryMs?: number;
  /**
   * A stream is ended after this long; the browser reconnects at once and is authenticated again, so a
   * session that was logged out or expired stops receiving within this delay.
   */
  readonly maxLifetimeMs?: number;
};

/** Chunks a client may leave unread before it is dropped (about 3 minutes of keep-alives and changes). */
const MAX_QUEUED_CHUNKS = 64;

type Client = {
  readonly controller: ReadableStreamDefaultController<Uint8Array>;
  closed: boolean;
  lifetime?: ReturnType<typeof setTimeout>;
};

export class SnapshotHub {
  readonly #o: SnapshotHubOptions;
  readonly #clients = new Set<Client>();
  readonly #enc = new TextEncoder();
  #last: string | null = null;
  #id = 0;
  #tickTimer: ReturnType<typeof setInterval> | undefined;
  #keepAliveTimer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<void> | null = null;

  constructor(options: SnapshotHubOptions) {
    this.#o = options;
  }

  get clientCount(): number {
    return this.#clients.size;
  }

  /** A new client's stream, or null when the hub already serves maxClients (the caller answers 503). */
  connect(): ReadableStream<Uint8Array> | null {
    if (this.#clients.size >= this.#o.maxClients) return null;
    let client: Client;
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        client = { controller, closed: false };
        this.#clients.add(client);
        if (this.#o.maxLifetimeMs !== undefined) {
          const c = client;
          c.lifetime = setTimeout(() => {
            try {
              c.controller.close();
            } catch { /* already closed */ }
            this.#drop(c);
          }, this.#o.maxLifetimeMs);
          Deno.unrefTimer(c.lifetime);
        }
        this.#write(client, sseRetry(this.#o.retryMs ?? 3000) + sseComment("connected"));
        if (this.#last !== null) this.#write(client, sseEvent(this.#o.event, this.#last, this.#id));
        this.#start();
        // The first client must not wait a whole tick for its first snapshot.
        if (this.#last === null) this.refresh();
      },
      cancel: () => this.#drop(client),
    });
  }

  /** Takes a snapshot now (and sends it if it changed); concurrent calls share one snapshot. */
  refresh(): Promise<void> {
    if (this.#running) return this.#running;
    // Started in a microtask, so a snapshot that fails synchronously cannot clear #running before it is set.
    this.#running = Promise.resolve().then(async () => {
      try {
        const text = JSON.stringify(await this.#o.snapshot());
        if (text !== this.#last) {
          this.#last = text;
          this.#id++;
          this.#broadcast(sseEvent(this.#o.event, text, this.#id));
        }
      } catch (e) {
        // A failed snapshot is reported once to listeners; the next tick tries again.
        this.#broadcast(sseComment(`snapshot failed: ${(e as Error).message}`));
      } finally {
        this.#running = null;
      }
    });
    return this.#running;
  }

  /** Ends every stream and stops the timers (service shutdown, tests). */
  close(): void {
    for (const c of [...this.#clients]) {
      try {
        c.controller.close();
      } catch { /* already closed */ }
      this.#drop(c);
    }
  }

  #start(): void {
    if (this.#tickTimer !== undefined) return;
    const tick = setInterval(() => void this.refresh(), this.#o.tickMs);
    const keepAlive = setInterval(() => this.#broadcast(sseComment("keep-alive")), this.#o.keepAliveMs);
    // The hub never keeps the process alive by itself.
    Deno.unrefTimer(tick);
    Deno.unrefTimer(keepAlive);
    this.#tickTimer = tick;
    this.#keepAliveTimer = keepAlive;
  }

  #drop(client: Client): void {
    client.closed = true;
    clearTimeout(client.lifetime);
    this.#clients.delete(client);
    if (this.#clients.size === 0) {
      clearInterval(this.#tickTimer);
      clearInterval(this.#keepAliveTimer);
      this.#tickTimer = this.#keepAliveTimer = undefined;
      // Without listeners the snapshot goes stale: the next client must get a fresh one.
      this.#last = null;
    }
  }

  #broadcast(text: string): void {
    const bytes = this.#enc.encode(text);
    for (const c of [...this.#clients]) this.#write(c, bytes);
  }

  #write(client: Client, data: string | Uint8Array): void {
    if (client.closed) return;
    // A client that stopped reading would make the queue grow without end: it is dropped instead, and
    // EventSource reconnects if it is still there.
    if ((client.controller.desiredSize ?? 0) < -MAX_QUEUED_CHUNKS) {
      try {
        client.controller.error(new Error("client too slow"));
      } catch { /* already closed */ }
      this.#drop(client);
      return;
    }
    try {
      client.controller.enqueue(typeof data === "string" ? this.#enc.encode(data) : data);
    } catch {
      this.#drop(client); // the stream was closed under us
    }
  }
}
