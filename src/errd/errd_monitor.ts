// The errd driver: polls /proc every polltimer, feeds the counts to the pure automaton and executes its
// effects: resources and log lines go to the runtime's callbacks, actions to `onAction` (the runtime does
// the restart/stopstart/stop, logs "Action restart called by errd" and counts maxloop), handlers are run
// here with the module's script environment.
import { isAbsolute, join } from "node:path";
import type { ErrdConfig } from "../config/mod.ts";
import {
  type ErrdEffect,
  type ErrdEvent,
  type ErrdState,
  errdStep,
  initialErrdState,
} from "./errd_automaton.ts";
import { errdListText } from "./errd_list.ts";
import { compileSelector, matchingProcs, parseCmdline, parseStat, type ProcInfo } from "./proc_table.ts";

/** What a handler needs from the module's script runner (ScriptRunner satisfies it). */
export type HandlerEnvironment = { readonly userBin: string; environment(): Record<string, string> };

export type ErrdMonitorOptions = {
  readonly onAction: (effect: Extract<ErrdEffect, { kind: "action" }>) => void;
  readonly onResource?: (resource: string, value: "up" | "down") => void;
  /** Module log lines, component errd (e.g. E "Process appli.exe not running"). */
  readonly log?: (level: "E" | "I", message: string) => void;
  readonly scripts?: HandlerEnvironment;
  /** A handler still running after this is killed and counts as failed (stopstart). */
  readonly handlerTimeoutMs?: number;
  readonly procRoot?: string;
  /** service="yes": whether the unit is active (default: `systemctl is-active --quiet <name>`). */
  readonly serviceActive?: (name: string) => Promise<boolean>;
  readonly initiallyOn?: boolean;
  /** SAFEVAR/modules/AM/errdlist (errd_list.ts), rewritten when it changes; none when absent. */
  readonly listFile?: string;
};

export class ErrdMonitor {
  #state: ErrdState;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #polling: Promise<void> | null = null;
  #stopped = true;
  #handlers = new Set<Promise<void>>();
  #config: ErrdConfig;
  #counts: readonly number[] | null = null;
  #listText = "";

  constructor(config: ErrdConfig, private readonly opts: ErrdMonitorOptions) {
    this.#config = config;
    this.#state = initialErrdState(config, opts.initiallyOn ?? true);
  }

  get state(): ErrdState {
    return this.#state;
  }

  get config(): ErrdConfig {
    return this.#config;
  }

  /** Begins polling every polltimer (the classes decide what is evaluated). */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#writeList();
    this.#schedule();
  }

  /** Stops polling; resolves when the current poll and any running handler have ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#polling;
    await Promise.allSettled([...this.#handlers]);
  }

  enableClass(name: string): void {
    this.#feed({ kind: "enableClass", class: name });
  }

  disableClass(name: string): void {
    this.#feed({ kind: "disableClass", class: name });
  }

  /** `safekit errd on|off`. */
  setSwitch(on: boolean): void {
    this.#feed({ kind: "setSwitch", on });
  }

  /** One poll now (also what the timer runs). */
  async pollNow(): Promise<void> {
    const table = await readProcTable(this.opts.procRoot);
    const serviceActive = this.opts.serviceActive ?? systemdUnitActive;
    const counts = await Promise.all(this.#config.procs.map(async (p) => {
      if (p.service) return await serviceActive(p.name) ? 1 : 0;
      return matchingProcs(compileSelector(p), table).length;
    }));
    this.#counts = counts;
    this.#feed({ kind: "poll", counts });
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#polling = this.pollNow().catch((e) => this.opts.log?.("E", `errd poll failed: ${e}`)).finally(
        () => {
          this.#polling = null;
          if (!this.#stopped) this.#schedule();
        },
      );
    }, this.#config.pollTimerMs);
  }

  #feed(event: ErrdEvent): void {
    const out = errdStep(this.#config, this.#state, event);
    this.#state = out.state;
    for (const e of out.effects) this.#execute(e);
    this.#writeList();
  }

  #writeList(): void {
    if (!this.opts.listFile) return;
    const text = errdListText(this.#config, this.#state, this.#counts);
    if (text === this.#listText) return;
    this.#listText = text;
    try {
      // tmp + rename: a reader never sees half a list.
      Deno.writeTextFileSync(`${this.opts.listFile}.tmp`, text);
      Deno.renameSync(`${this.opts.listFile}.tmp`, this.opts.listFile);
    } catch (e) {
      this.opts.log?.("E", `errd: cannot write ${this.opts.listFile}: ${e}`);
    }
  }

  #execute(e: ErrdEffect): void {
    switch (e.kind) {
      case "log":
        return this.opts.log?.(e.level, e.message);
      case "resource":
        return this.opts.onResource?.(e.resource, e.value);
      case "action":
        return this.opts.onAction(e);
      case "runHandler": {
        const run = this.#runHandler(e.exe).then((exitCode) => {
          this.#handlers.delete(run);
          this.#feed({ kind: "handlerDone", index: e.index, exitCode });
        });
        this.#handlers.add(run);
      }
    }
  }

  async #runHandler(exe: string): Promise<number> {
    const scripts = this.opts.scripts;
    const path = isAbsolute(exe) || !scripts ? exe : join(scripts.userBin, exe);
    try {
      const out = await new Deno.Command(path, {
        env: scripts?.environment(),
        clearEnv: scripts !== undefined,
        cwd: scripts?.userBin,
        stdin: "null",
        stdout: "null",
        stderr: "null",
        signal: AbortSignal.timeout(this.opts.handlerTimeoutMs ?? 60_000),
      }).output();
      return out.code;
    } catch (e) {
      this.opts.log?.("E", `errd handler ${path} could not run: ${e}`);
      return 127;
    }
  }
}

/** Reads every process of /proc; processes that end while being read are skipped. */
export async function readProcTable(procRoot = "/proc"): Promise<ProcInfo[]> {
  const pids: string[] = [];
  for await (const e of Deno.readDir(procRoot)) if (/^\d+$/.test(e.name)) pids.push(e.name);
  const table = await Promise.all(pids.map(async (pid): Promise<ProcInfo | null> => {
    try {
      const stat = parseStat(await Deno.readTextFile(`${procRoot}/${pid}/stat`));
      if (!stat) return null;
      const argv = parseCmdline(await Deno.readTextFile(`${procRoot}/${pid}/cmdline`));
      return { ...stat, argv };
    } catch {
      return null;
    }
  }));
  return table.filter((p): p is ProcInfo => p !== null);
}

async function systemdUnitActive(name: string): Promise<boolean> {
  try {
    return (await new Deno.Command("systemctl", { args: ["is-active", "--quiet", name] }).output()).success;
  } catch {
    return false;
  }
}
