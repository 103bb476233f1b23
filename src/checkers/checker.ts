// What every checker is to the module runtime (spec §4.11): something that watches one resource
// (`tcp.<id>`, `ping.<id>`...) and reports its value. The resource is `init` until the first report; after
// that only changes are reported, so the runtime can log each one ("Resource tcp.id set to down by tcpcheck").

export type ResourceValue = "up" | "down";

export type ReportResource = (resource: string, value: ResourceValue, detail?: string) => void;

export interface Checker {
  readonly resource: string;
  /** Begins checking in the background; never blocks the caller. */
  start(report: ReportResource): void;
  /** Ends checking: resolves once no probe of this checker is running any more. */
  stop(): Promise<void>;
}

/** The result of one probe: `detail` says why, for the log. */
export type ProbeResult = { readonly up: boolean; readonly detail?: string };

/** One probe, bounded by `signal` (its own timeout, or the checker being stopped). */
export type Probe = (signal: AbortSignal) => Promise<ProbeResult>;

/** Spec §4.11: every checker tests each 10 s by default, and a probe that does not answer in 5 s fails. */
export const DEFAULT_INTERVAL_MS = 10_000;
export const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * The loop shared by the polling checkers: probe, report on change, sleep, again. Each checker owns its own
 * loop and its own timeout, so a hung target costs that checker its timeout and nothing else.
 */
export class PeriodicChecker implements Checker {
  #loop: Promise<void> | null = null;
  #stopping = false;
  /** Ends the current probe or pause at once (stop). */
  #interrupt: (() => void) | null = null;

  constructor(
    readonly resource: string,
    private readonly probe: Probe,
    private readonly intervalMs: number = DEFAULT_INTERVAL_MS,
    private readonly timeoutMs: number = DEFAULT_TIMEOUT_MS,
  ) {}

  start(report: ReportResource): void {
    if (this.#loop) return;
    this.#stopping = false;
    this.#loop = this.#run(report);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#interrupt?.();
    await this.#loop;
    this.#loop = null;
  }

  // The loop runs 50 times a second with 50 checkers at 1 s (scripts/bench/checkers.ts): each round costs
  // one controller, two timers and two promises, and no AbortSignal listeners.
  async #run(report: ReportResource): Promise<void> {
    let last: ResourceValue | null = null;
    while (!this.#stopping) {
      const result = await this.#probeOnce();
      // A probe cut short by stop() says nothing about the target: it is not reported.
      if (this.#stopping) break;
      const value: ResourceValue = result.up ? "up" : "down";
      if (value !== last) {
        last = value;
        report(this.resource, value, result.detail);
      }
      await this.#pause();
    }
    this.#interrupt = null;
  }

  #probeOnce(): Promise<ProbeResult> {
    return new Promise<ProbeResult>((resolve) => {
      const cut = new AbortController();
      let settled = false;
      const finish = (r: ProbeResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#interrupt = null;
        resolve(r);
      };
      // The result is given at the timeout even when a probe ignores its signal.
      const abandon = (detail: string) => () => {
        finish({ up: false, detail });
        cut.abort();
      };
      const timer = setTimeout(abandon(`no answer within ${this.timeoutMs} ms`), this.timeoutMs);
      this.#interrupt = abandon("checker stopped");
      this.probe(cut.signal).then(finish, (e) => finish({ up: false, detail: errorText(e) }));
    });
  }

  #pause(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#interrupt = null;
        resolve();
      };
      const timer = setTimeout(done, this.intervalMs);
      this.#interrupt = done;
    });
  }
}

/**
 * Runs one probe with a timeout; a rejection or a timeout is a `down` result, never an exception.
 * Called 50 times a second by 50 checkers at 1 s, so it costs one controller, one timer and one promise:
 * no AbortSignal.timeout/any (each allocates timers and weak references) and no Promise.race.
 */
export function probeWithin(
  probe: Probe,
  timeoutMs: number,
  stopped?: AbortSignal,
): Promise<ProbeResult> {
  return new Promise<ProbeResult>((resolve) => {
    const cut = new AbortController();
    let settled = false;
    const finish = (r: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stopped?.removeEventListener("abort", onStop);
      resolve(r);
    };
    const onTimeout = () => {
      // The result is given at the timeout even when a probe ignores its signal.
      finish({ up: false, detail: `no answer within ${timeoutMs} ms` });
      cut.abort();
    };
    const onStop = () => {
      finish({ up: false, detail: "checker stopped" });
      cut.abort();
    };
    const timer = setTimeout(onTimeout, timeoutMs);
    if (stopped?.aborted) return onStop();
    stopped?.addEventListener("abort", onStop, { once: true });
    probe(cut.signal).then(finish, (e) => finish({ up: false, detail: errorText(e) }));
  });
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The log component that sets each kind of resource (spec §10.1/§10.2: "... set to down by tcpcheck"). */
export const CHECKER_COMPONENT = {
  tcp: "tcpcheck",
  ping: "pingcheck",
  intf: "intfcheck",
  ip: "ipcheck",
  custom: "customscript",
  module: "modulecheck",
  splitbrain: "splitbraincheck",
} as const;

/** The module log line for a checker report, verbatim from spec §10.2. */
export function resourceMessage(resource: string, value: ResourceValue, component: string): string {
  return `Resource ${resource} set to ${value} by ${component}`;
}
