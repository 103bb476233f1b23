// <custom> checker (spec §4.11, UG §15.7.2): a user executable that runs forever and sets its resource
// itself (`safekit set -r custom.<id> -v up|down -i <checker> -m <module>`). This side only keeps it running:
// it starts it with `<module> <resource> [arg...]` and the module's script environment, starts it again
// (with a growing delay) when it exits, and kills its whole process tree when its phase ends. The resource
// stays `init` until the executable sets it, which keeps the module waiting, as in SafeKit.
import { isAbsolute, join } from "node:path";
import { type Checker, errorText, type ReportResource, sleep } from "./checker.ts";

/** What a custom checker needs from the module's script runner (ScriptRunner satisfies it). */
export type ScriptEnvironment = { readonly userBin: string; environment(): Record<string, string> };

export type RestartBackoff = {
  readonly initialMs: number;
  readonly maxMs: number;
  /** A run at least this long counts as healthy: the next delay starts from initialMs again. */
  readonly healthyRunMs: number;
};
export const DEFAULT_BACKOFF: RestartBackoff = { initialMs: 1_000, maxMs: 30_000, healthyRunMs: 60_000 };

/** Pure: the delay before the next start, given how long the last run lasted and the previous delay. */
export function nextRestartDelay(previousMs: number | null, ranMs: number, b: RestartBackoff): number {
  if (previousMs === null || ranMs >= b.healthyRunMs) return b.initialMs;
  return Math.min(previousMs * 2, b.maxMs);
}

/** How long a stopped executable gets between SIGTERM and SIGKILL. */
const TERM_GRACE_MS = 2_000;

export class CustomChecker implements Checker {
  #stopper: AbortController | null = null;
  #loop: Promise<void> | null = null;
  #child: Deno.ChildProcess | null = null;

  constructor(
    readonly resource: string,
    private readonly module: string,
    private readonly exec: string,
    private readonly arg: string | undefined,
    private readonly env: ScriptEnvironment,
    private readonly opts: { backoff?: RestartBackoff; log?: (message: string) => void } = {},
  ) {}

  get executable(): string {
    return isAbsolute(this.exec) ? this.exec : join(this.env.userBin, this.exec);
  }

  get args(): string[] {
    return [this.module, this.resource, ...(this.arg ?? "").split(/\s+/).filter((a) => a !== "")];
  }

  /** The pid of the running executable (its process group id too), for tests and `safekit state -v`. */
  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  start(_report: ReportResource): void {
    if (this.#loop) return;
    this.#stopper = new AbortController();
    this.#loop = this.#run(this.#stopper.signal);
  }

  async stop(): Promise<void> {
    this.#stopper?.abort();
    await this.#loop;
    this.#stopper = null;
    this.#loop = null;
  }

  async #run(stopped: AbortSignal): Promise<void> {
    const backoff = this.opts.backoff ?? DEFAULT_BACKOFF;
    let delay: number | null = null;
    while (!stopped.aborted) {
      const began = Date.now();
      const outcome = await this.#runOnce(stopped);
      if (stopped.aborted) break;
      delay = nextRestartDelay(delay, Date.now() - began, backoff);
      this.opts.log?.(`Custom checker ${this.resource} ${outcome}; started again in ${delay} ms`);
      await sleep(delay, stopped);
    }
  }

  async #runOnce(stopped: AbortSignal): Promise<string> {
    const useSetsid = Deno.build.os === "linux";
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(useSetsid ? "setsid" : this.executable, {
        args: useSetsid ? [this.executable, ...this.args] : this.args,
        env: this.env.environment(),
        clearEnv: true,
        cwd: this.env.userBin,
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
    } catch (e) {
      return `could not start ${this.executable}: ${errorText(e)}`;
    }
    this.#child = child;
    const onStop = () => this.#terminate(child);
    stopped.addEventListener("abort", onStop, { once: true });
    const status = await child.status;
    stopped.removeEventListener("abort", onStop);
    // Whatever the executable left behind in its group goes with it, before a new one starts.
    signalGroup(child.pid, "SIGKILL");
    this.#child = null;
    return status.signal ? `killed by ${status.signal}` : `exited with code ${status.code}`;
  }

  #terminate(child: Deno.ChildProcess): void {
    signalGroup(child.pid, "SIGTERM");
    const timer = setTimeout(() => signalGroup(child.pid, "SIGKILL"), TERM_GRACE_MS);
    child.status.finally(() => clearTimeout(timer));
  }
}

/** setsid made the executable a session and group leader: -pid reaches every process it started. */
function signalGroup(pid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(Deno.build.os === "linux" ? -pid : pid, signal);
  } catch { /* already gone */ }
}
