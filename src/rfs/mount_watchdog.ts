// The primary's check that its replicated file systems still answer (spec §7.1: Linux `checktime` null
// request every `checkintv`, `stopstart` on timeout). Every interval, each mount gets one lookup of a name
// that never exists: a fresh random name each time, so the kernel cannot answer it from its dentry cache and
// the request really reaches the FUSE server. "No such file" is the healthy answer; anything else (ENOTCONN
// from a server that died, EIO...) or no answer within checktime means the application would be writing into
// a void, and the module must be restarted cleanly.
export type WatchdogOptions = {
  readonly dirs: readonly string[];
  readonly checkTimeMs: number;
  readonly checkIntervalMs: number;
  /** Called once, with a sentence for the module log; the watchdog stops itself first. */
  readonly onFailure: (reason: string) => void;
  /** The lookup (tests give a hanging one); default Deno.lstat. */
  readonly lookup?: (path: string) => Promise<unknown>;
};

export class MountWatchdog {
  #timer: ReturnType<typeof setInterval> | null = null;
  #running = false;
  #stopped = false;

  constructor(private readonly o: WatchdogOptions) {}

  start(): void {
    if (this.#timer !== null || this.#stopped) return;
    this.#timer = setInterval(() => void this.checkNow(), this.o.checkIntervalMs);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** One round over every mount; resolves with the failure reason, or null when all answered. */
  async checkNow(): Promise<string | null> {
    if (this.#running || this.#stopped) return null;
    this.#running = true;
    try {
      for (const dir of this.o.dirs) {
        const reason = await this.#probe(dir);
        if (reason && !this.#stopped) {
          this.stop();
          this.o.onFailure(reason);
          return reason;
        }
      }
      return null;
    } finally {
      this.#running = false;
    }
  }

  async #probe(dir: string): Promise<string | null> {
    const lookup = this.o.lookup ?? Deno.lstat;
    const name = `${dir}/.safekit-null-request-${crypto.randomUUID()}`;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), this.o.checkTimeMs));
    try {
      const r = await Promise.race([
        lookup(name).then(() => "exists" as const, (e) => e as Error),
        timeout,
      ]);
      if (r === "timeout") {
        return `replicated file system ${dir} did not answer a null request within ${this.o.checkTimeMs} ms`;
      }
      if (r === "exists") return null; // cannot happen with a random name; harmless
      if (r instanceof Deno.errors.NotFound) return null;
      return `replicated file system ${dir} failed a null request: ${r.message}`;
    } finally {
      clearTimeout(timer);
    }
  }
}
