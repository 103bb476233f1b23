// HTTP/1.1 keep-alive load generator, run as its own child process so it does not share an event loop with
// the server it measures. Raw TCP with a hand-written GET: no client library overhead in the figures.
// Usage: deno run -A load_client.ts '<LoadSpec as JSON>'  → prints one LoadResult as JSON on stdout.

export type LoadSpec = {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly connections: number;
  readonly seconds: number;
  /** "closed": each connection sends its next request as soon as the previous answer is in (max throughput).
   * "open": requests are due at a fixed total rate, whatever the server does (latency at a given load). */
  readonly mode: "closed" | "open";
  readonly rate?: number;
};

export type LoadResult = {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly statuses: Record<string, number>;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
};

/** Nearest-rank percentile of an ascending array; 0 when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export type ParsedResponse = { readonly status: number; readonly length: number };

const CRLFCRLF = [13, 10, 13, 10];

function indexOfSeq(buf: Uint8Array, start: number, end: number, seq: readonly number[]): number {
  outer: for (let i = start; i + seq.length <= end; i++) {
    for (let j = 0; j < seq.length; j++) if (buf[i + j] !== seq[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * Parses one complete HTTP/1.1 response at buf[start, end): its status and its total byte length, or null
 * when more bytes are needed. Handles Content-Length and chunked bodies, which is all a GET gets back here.
 */
export function parseResponse(buf: Uint8Array, start: number, end: number): ParsedResponse | null {
  const headEnd = indexOfSeq(buf, start, end, CRLFCRLF);
  if (headEnd < 0) return null;
  const head = new TextDecoder("latin1").decode(buf.subarray(start, headEnd));
  const status = Number(head.slice(9, 12));
  if (!head.startsWith("HTTP/1.") || !Number.isInteger(status)) throw new Error(`bad status line: ${head}`);
  const bodyStart = headEnd + 4;
  const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (cl) {
    const total = bodyStart + Number(cl[1]) - start;
    return end - start >= total ? { status, length: total } : null;
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    let pos = bodyStart;
    for (let guard = 0; guard < 10_000; guard++) {
      const lineEnd = indexOfSeq(buf, pos, end, [13, 10]);
      if (lineEnd < 0) return null;
      const size = parseInt(new TextDecoder().decode(buf.subarray(pos, lineEnd)), 16);
      if (!Number.isFinite(size)) throw new Error("bad chunk size");
      if (size === 0) {
        // Last chunk, no trailers expected: "0\r\n\r\n".
        return lineEnd + 4 <= end ? { status, length: lineEnd + 4 - start } : null;
      }
      pos = lineEnd + 2 + size + 2;
      if (pos > end) return null;
    }
    throw new Error("too many chunks");
  }
  // No length and not chunked: only bodiless statuses are valid on a keep-alive connection.
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
    return { status, length: bodyStart - start };
  }
  throw new Error(`response without length: ${head}`);
}

/** One keep-alive connection: send a GET, read exactly one response, reuse. */
class Connection {
  #buf = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;
  constructor(private readonly conn: Deno.TcpConn, private readonly request: Uint8Array) {}

  static async open(spec: LoadSpec): Promise<Connection> {
    const conn = await Deno.connect({ hostname: spec.host, port: spec.port });
    conn.setNoDelay(true);
    const req =
      `GET ${spec.path} HTTP/1.1\r\nHost: ${spec.host}:${spec.port}\r\nConnection: keep-alive\r\n\r\n`;
    return new Connection(conn, new TextEncoder().encode(req));
  }

  async get(): Promise<number> {
    let written = 0;
    while (written < this.request.length) written += await this.conn.write(this.request.subarray(written));
    for (;;) {
      const parsed = parseResponse(this.#buf, this.#start, this.#end);
      if (parsed) {
        this.#start += parsed.length;
        if (this.#start === this.#end) this.#start = this.#end = 0;
        return parsed.status;
      }
      if (this.#end === this.#buf.length) {
        // Compact, or grow when one response fills the whole buffer.
        const grown = this.#start === 0 ? new Uint8Array(this.#buf.length * 2) : this.#buf;
        grown.set(this.#buf.subarray(this.#start, this.#end));
        this.#end -= this.#start;
        this.#start = 0;
        this.#buf = grown;
      }
      const n = await this.conn.read(this.#buf.subarray(this.#end));
      if (n === null) throw new Error("connection closed by server");
      this.#end += n;
    }
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const conns = await Promise.all(Array.from({ length: spec.connections }, () => Connection.open(spec)));
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  let errors = 0;
  const t0 = performance.now();
  const deadline = t0 + spec.seconds * 1000;
  // A server that stops answering must not hang the bench: close everything shortly after the deadline.
  const watchdog = setTimeout(() => conns.forEach((c) => c.close()), spec.seconds * 1000 + 3000);

  const closedLoop = async (c: Connection) => {
    while (performance.now() < deadline) {
      const sent = performance.now();
      const status = await c.get();
      latencies.push(performance.now() - sent);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };

  // Open loop: request i is due at t0 + i/rate; connection k takes requests k, k+N, k+2N, ... When a
  // connection is still busy at a request's due time (the server is behind), latency counts from the due
  // time, so queueing is not hidden; otherwise from the actual send, so timer slop is not charged to it.
  const openLoop = async (c: Connection, k: number) => {
    const rate = spec.rate ?? 1000;
    const total = Math.floor(rate * spec.seconds);
    let freeAt = t0;
    for (let i = k; i < total; i += spec.connections) {
      const due = t0 + (i * 1000) / rate;
      const behind = freeAt > due;
      if (!behind) {
        const wait = due - performance.now();
        if (wait > 0.5) await sleep(wait);
      }
      const sent = performance.now();
      const status = await c.get();
      freeAt = performance.now();
      latencies.push(freeAt - (behind ? due : sent));
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };

  await Promise.all(conns.map(async (c, k) => {
    try {
      await (spec.mode === "closed" ? closedLoop(c) : openLoop(c, k));
    } catch {
      errors++;
    }
  }));
  const elapsed = (performance.now() - t0) / 1000;
  clearTimeout(watchdog);
  conns.forEach((c) => c.close());
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    seconds: elapsed,
    statuses,
    latencyMs: {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? 0,
    },
  };
}

if (import.meta.main) {
  const spec = JSON.parse(Deno.args[0]) as LoadSpec;
  if (!/^127\.\d+\.\d+\.\d+$/.test(spec.host)) throw new Error("the load generator only targets 127.0.0.0/8");
  console.log(JSON.stringify(await runLoad(spec)));
}
