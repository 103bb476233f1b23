// Runs a module's scripts (spec §6): SAFEUSERBIN/<script> with `<current> <next> <action>` (a forced stop
// call gets `force` first), the SafeKit environment plus every <var>, output to
// SAFEUSERVAR/userlog_<YYYY-MM-DD>T<hhmmss>_<script>.ulog bounded by userlogsize. Each script runs in its
// own session so a timeout or a forcestop kills its whole process tree, never just the shell.
import { join } from "node:path";
import type { UserConfig } from "../config/mod.ts";
import { scrubbedEnv } from "../platform/child_env.ts";
import type { NodePaths } from "../platform/node_paths.ts";

export type ScriptOutcome = {
  exitCode: number;
  timedOut: boolean;
  killed: boolean;
  missing: boolean;
  logFile?: string;
};

export type ScriptRequest = {
  readonly name: string;
  readonly args: readonly string[];
  readonly timeoutMs: number;
};

/** How many .ulog files a module keeps: older ones are removed, newest first kept. */
const MAX_ULOG_FILES = 200;

export class ScriptRunner {
  #running = new Map<number, Deno.ChildProcess>();
  #nextRun = 1;

  constructor(
    private readonly paths: NodePaths,
    private readonly module: string,
    private readonly user: UserConfig,
    private readonly extraEnv: () => Record<string, string> = () => ({}),
  ) {}

  get userBin(): string {
    return join(this.paths.privateModuleDir(this.module), "bin");
  }

  environment(): Record<string, string> {
    const env = scrubbedEnv();
    Object.assign(env, {
      SAFE: this.paths.safe,
      SAFEMODULE: this.module,
      SAFEBIN: this.paths.safebin,
      SAFEUSERBIN: this.userBin,
      SAFEUSERCONF: join(this.paths.privateModuleDir(this.module), "conf"),
      SAFEVAR: this.paths.safevar,
      SAFEUSERVAR: this.paths.moduleVar(this.module),
    }, this.extraEnv());
    for (const v of this.user.vars) env[v.name] = v.value;
    return env;
  }

  /** Starts a script; `kill(handle)` stops its whole tree. A missing script counts as done (exit 0). */
  start(req: ScriptRequest): { handle: number; done: Promise<ScriptOutcome> } {
    const handle = this.#nextRun++;
    return { handle, done: this.#run(handle, req) };
  }

  async #run(handle: number, req: ScriptRequest): Promise<ScriptOutcome> {
    const exe = join(this.userBin, req.name);
    try {
      const st = await Deno.stat(exe);
      if (!st.isFile) return { exitCode: 0, timedOut: false, killed: false, missing: true };
    } catch {
      return { exitCode: 0, timedOut: false, killed: false, missing: true };
    }
    const logFile = this.user.logging === "userlog"
      ? join(this.paths.moduleVar(this.module), ulogName(req.name))
      : undefined;
    const log = logFile ? await Deno.open(logFile, { create: true, write: true, append: true }) : null;
    const useSetsid = Deno.build.os === "linux";
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(useSetsid ? "setsid" : exe, {
        args: useSetsid ? [exe, ...req.args] : [...req.args],
        env: this.environment(),
        clearEnv: true,
        cwd: this.userBin,
        stdin: "null",
        stdout: log ? "piped" : "null",
        stderr: log ? "piped" : "null",
      }).spawn();
    } catch (e) {
      log?.close();
      return {
        exitCode: 126,
        timedOut: false,
        killed: false,
        missing: false,
        logFile,
        ...{ error: String(e) },
      };
    }
    this.#running.set(handle, child);
    const limit = this.user.userLogSizeKb * 1024;
    const copies = log ? [child.stdout, child.stderr].map((s) => copyBounded(s, log, limit)) : [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.#killTree(child);
    }, req.timeoutMs);
    const status = await child.status;
    clearTimeout(timer);
    await Promise.allSettled(copies);
    log?.close();
    const killed = this.#killed.has(handle);
    this.#killed.delete(handle);
    this.#running.delete(handle);
    if (logFile) this.#pruneUlogs().catch(() => {});
    return { exitCode: status.code, timedOut, killed, missing: false, logFile };
  }

  #killed = new Set<number>();

  kill(handle: number): void {
    const child = this.#running.get(handle);
    if (!child) return;
    this.#killed.add(handle);
    this.#killTree(child);
  }

  killAll(): void {
    for (const h of this.#running.keys()) this.kill(h);
  }

  #killTree(child: Deno.ChildProcess): void {
    try {
      // setsid made the script a session and group leader: -pid reaches every process it started.
      Deno.kill(Deno.build.os === "linux" ? -child.pid : child.pid, "SIGKILL");
    } catch {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }
  }

  async #pruneUlogs(): Promise<void> {
    const dir = this.paths.moduleVar(this.module);
    const files: string[] = [];
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.startsWith("userlog_")) files.push(e.name);
    }
    files.sort();
    for (const f of files.slice(0, Math.max(0, files.length - MAX_ULOG_FILES))) {
      await Deno.remove(join(dir, f)).catch(() => {});
    }
  }
}

export function ulogName(script: string, at = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  const date = `${at.getFullYear()}-${p(at.getMonth() + 1)}-${p(at.getDate())}`;
  const time = `${p(at.getHours())}${p(at.getMinutes())}${p(at.getSeconds())}`;
  return `userlog_${date}T${time}_${script}.ulog`;
}

/** Copies a stream into the log until `limit` bytes; the rest is drained and counted, not written. */
async function copyBounded(
  stream: ReadableStream<Uint8Array>,
  file: Deno.FsFile,
  limit: number,
): Promise<void> {
  let written = (await file.stat()).size;
  let dropped = 0;
  for await (const chunk of stream) {
    if (written >= limit) {
      dropped += chunk.length;
      continue;
    }
    const part = chunk.subarray(0, Math.max(0, limit - written));
    await file.write(part);
    written += part.length;
    dropped += chunk.length - part.length;
  }
  if (dropped > 0) {
    await file.write(
      new TextEncoder().encode(`\n[safekit: ${dropped} bytes of output dropped: userlogsize reached]\n`),
    );
  }
}

export type ScriptDone = { script: string; runId: number; exitCode: number; timedOut: boolean };

/**
 * Runs the scripts an automaton asks for (runScript / killScript effects) and reports each end as the
 * `scriptFinished` fields. Without a <user> element no script is executed (spec §4.8): each request ends
 * at once with exit code 0. Every script is bounded: forced stop calls by forcestoptimeout, all others
 * (start scripts included, so a hung start never wedges the module) by nicestoptimeout.
 */
export type ScriptHooks = {
  /** Awaited before the script starts (e.g. stop the checkers of the phase a stop script ends). */
  before?(name: string, force: boolean): Promise<void>;
  /** Called once it ended (e.g. start the checkers of the phase a start script began); awaited if it returns. */
  after?(name: string, force: boolean): void | Promise<void>;
};

export type ScriptStats = { runs: number; failures: number; timeouts: number; lastDurationMs: number };

export class AutomatonScripts {
  #runner: ScriptRunner | null;
  #handles = new Map<number, number>();
  /** Per script name, for the metrics. */
  readonly stats = new Map<string, ScriptStats>();

  constructor(
    paths: NodePaths,
    module: string,
    private readonly user: UserConfig | undefined,
    /** Around each script: checkers and errd classes follow the scripts (spec §4.10, §4.11). */
    private readonly hooks: ScriptHooks = {},
  ) {
    this.#runner = user ? new ScriptRunner(paths, module, user) : null;
  }

  /** The runner of module executables (custom checkers, errd handlers use its environment). */
  get runner(): ScriptRunner | null {
    return this.#runner;
  }

  run(
    name: string,
    runId: number,
    args: readonly string[],
    force: boolean,
    done: (d: ScriptDone) => void,
  ): void {
    const finish = (d: ScriptDone) => {
      const after = this.hooks.after?.(name, force);
      if (after) after.catch(() => {}).then(() => done(d));
      else done(d);
    };
    const before = this.hooks.before?.(name, force) ?? Promise.resolve();
    before.catch(() => {}).then(() => this.#spawn(name, runId, args, force, finish));
  }

  #spawn(
    name: string,
    runId: number,
    args: readonly string[],
    force: boolean,
    done: (d: ScriptDone) => void,
  ): void {
    if (!this.#runner || !this.user) {
      queueMicrotask(() => done({ script: name, runId, exitCode: 0, timedOut: false }));
      return;
    }
    const timeoutMs = force ? this.user.forceStopTimeoutMs : this.user.niceStopTimeoutMs;
    const { handle, done: finished } = this.#runner.start({
      name,
      args: force ? ["force", ...args] : [...args],
      timeoutMs,
    });
    this.#handles.set(runId, handle);
    const started = performance.now();
    finished.then((r) => {
      this.#handles.delete(runId);
      if (!r.missing) {
        const st = this.stats.get(name) ?? { runs: 0, failures: 0, timeouts: 0, lastDurationMs: 0 };
        st.runs++;
        if (r.timedOut || r.killed) st.timeouts++;
        else if (r.exitCode !== 0) st.failures++;
        st.lastDurationMs = performance.now() - started;
        this.stats.set(name, st);
      }
      done({ script: name, runId, exitCode: r.exitCode, timedOut: r.timedOut || r.killed });
    });
  }

  /** A runScript effect of an automaton: its end comes back to the automaton as a scriptFinished event. */
  runEffect<N extends string>(
    e: { name: N; runId: number; args: readonly string[]; force?: boolean },
    dispatch: (
      ev: { kind: "scriptFinished"; script: N; runId: number; exitCode: number; timedOut: boolean },
    ) => void,
  ): void {
    this.run(
      e.name,
      e.runId,
      e.args,
      e.force === true,
      (r) =>
        dispatch({
          kind: "scriptFinished",
          script: e.name,
          runId: r.runId,
          exitCode: r.exitCode,
          timedOut: r.timedOut,
        }),
    );
  }

  kill(runId: number): void {
    const h = this.#handles.get(runId);
    if (h !== undefined) this.#runner?.kill(h);
  }

  killAll(): void {
    this.#runner?.killAll();
  }
}
