// <splitbrain> checker (spec §4.11): up while at least one witness answers. The witnesses are pinged at
// once, each within the timeout, so one dead witness never delays the others. SafeKit documents only
// exec="ping"; any other exec is run as `<exec> <witness>` (relative to SAFEUSERBIN) and exit code 0
// counts as an answer, which lets a site use another reachability test.
import { isAbsolute, join } from "node:path";
import {
  DEFAULT_INTERVAL_MS,
  DEFAULT_TIMEOUT_MS,
  errorText,
  PeriodicChecker,
  type Probe,
  type ProbeResult,
} from "./checker.ts";
import { ping, type PingMethod } from "./ping_checker.ts";

export function witnesses(arg: string): string[] {
  return arg.split(/[\s,]+/).filter((w) => w !== "");
}

export type WitnessOptions = {
  intervalMs?: number;
  timeoutMs?: number;
  userBin?: string;
  pingMethod?: PingMethod;
  /** The module's script environment for a non-ping exec (as custom checkers get it): the node service's
   * own variables (NODE_OPTIONS, DENO_V8_FLAGS...) must not reach a site's command. */
  environment?: () => Record<string, string>;
};

export function splitbrainChecker(
  resource: string,
  exec: string,
  arg: string,
  opts: WitnessOptions = {},
): PeriodicChecker {
  return new PeriodicChecker(
    resource,
    witnessProbe(exec, arg, opts),
    opts.intervalMs ?? DEFAULT_INTERVAL_MS,
    opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  );
}

/** One round over every witness (up when one answers): the checker's probe, and the fresh question the
 * module asks when it loses its peer (splitbrain_isolation.ts). */
export function witnessProbe(exec: string, arg: string, opts: WitnessOptions = {}): Probe {
  const list = witnesses(arg);
  const one = exec === "ping"
    ? (w: string, signal: AbortSignal) => ping(w, signal, opts.pingMethod)
    : (w: string, signal: AbortSignal) =>
      runWitnessCommand(
        isAbsolute(exec) || !opts.userBin ? exec : join(opts.userBin, exec),
        w,
        signal,
        opts.environment?.(),
      );
  return (signal) => anyWitnessAnswers(list, (w) => one(w, signal));
}

/** Up as soon as one witness answers; down when all have failed. */
export function anyWitnessAnswers(
  list: readonly string[],
  probe: (witness: string) => Promise<ProbeResult>,
): Promise<ProbeResult> {
  if (list.length === 0) return Promise.resolve({ up: false, detail: "no witness configured" });
  return new Promise((resolve) => {
    let failed = 0;
    for (const w of list) {
      probe(w).catch((e) => ({ up: false, detail: errorText(e) })).then((r) => {
        if (r.up) resolve({ up: true, detail: `witness ${w} answered` });
        else if (++failed === list.length) {
          resolve({ up: false, detail: `no witness answered (${list.join(", ")})` });
        }
      });
    }
  });
}

async function runWitnessCommand(
  exe: string,
  witness: string,
  signal: AbortSignal,
  env?: Record<string, string>,
): Promise<ProbeResult> {
  try {
    const out = await new Deno.Command(exe, {
      args: [witness],
      stdin: "null",
      stdout: "null",
      stderr: "null",
      signal,
      ...(env ? { env, clearEnv: true } : {}),
    }).output();
    return { up: out.success };
  } catch (e) {
    return { up: false, detail: errorText(e) };
  }
}
