// `safekit kill -name="proc" [-argregex=".."] -level="test|terminate|9|15"` (spec §3.8): signals the
// processes errd would count for that name. test lists them, 15 sends SIGTERM, 9 SIGKILL, terminate sends
// SIGTERM then SIGKILL to those still alive after a grace delay. Selection is errd's (proc_table.ts):
// command name truncated to 15 characters, argregex on the arguments.
import { readProcTable } from "./errd_monitor.ts";
import { compileSelector, matchingProcs, type ProcInfo, procLine } from "./proc_table.ts";

export type KillLevel = "test" | "terminate" | "9" | "15";
export type KillRequest = { readonly name: string; readonly argRegex?: string; readonly level: KillLevel };

const LEVELS: readonly KillLevel[] = ["test", "terminate", "9", "15"];
const USAGE = 'usage: safekit kill -name="proc" [-argregex="regex"] -level="test|terminate|9|15"';

/** Parses `-name=x` / `-name x` (one or two dashes) forms; throws an Error that says what is wrong. */
export function parseKillArgs(args: readonly string[]): KillRequest {
  const values: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const m = /^--?(name|argregex|level)(?:=(.*))?$/s.exec(args[i]);
    if (!m) throw new Error(`safekit kill: unexpected argument '${args[i]}'\n${USAGE}`);
    const value = m[2] ?? args[++i];
    if (value === undefined) throw new Error(`safekit kill: -${m[1]} needs a value\n${USAGE}`);
    values[m[1]] = value;
  }
  if (!values.name) throw new Error(`safekit kill: -name is required\n${USAGE}`);
  const level = values.level as KillLevel;
  if (!LEVELS.includes(level)) {
    throw new Error(
      `safekit kill: invalid -level '${values.level ?? ""}' (expected test, terminate, 9 or 15)`,
    );
  }
  if (values.argregex !== undefined) {
    try {
      compileSelector({ name: values.name, argRegex: values.argregex });
    } catch (e) {
      throw new Error(`safekit kill: invalid -argregex '${values.argregex}': ${(e as Error).message}`);
    }
  }
  return { name: values.name, argRegex: values.argregex, level };
}

/** Pure: which processes a request designates (never the caller itself). */
export function killTargets(req: KillRequest, table: readonly ProcInfo[], selfPid: number): ProcInfo[] {
  return matchingProcs(compileSelector(req), table).filter((p) => p.pid !== selfPid);
}

export type KillOutcome = { readonly exitCode: number; readonly lines: string[] };

/** Exit code 0 when at least one process matched, 1 when none did. */
export async function runKill(
  req: KillRequest,
  opts: { procRoot?: string; graceMs?: number; selfPid?: number } = {},
): Promise<KillOutcome> {
  const targets = killTargets(req, await readProcTable(opts.procRoot), opts.selfPid ?? Deno.pid);
  if (targets.length === 0) return { exitCode: 1, lines: [`No process matches name=${req.name}`] };
  const lines = targets.map(procLine);
  if (req.level === "test") return { exitCode: 0, lines };
  const first: Deno.Signal = req.level === "9" ? "SIGKILL" : "SIGTERM";
  for (const p of targets) send(p.pid, first);
  if (req.level === "terminate") {
    const deadline = Date.now() + (opts.graceMs ?? 3_000);
    let alive = targets.filter((p) => isAlive(p.pid));
    while (alive.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      alive = alive.filter((p) => isAlive(p.pid));
    }
    for (const p of alive) send(p.pid, "SIGKILL");
  }
  return {
    exitCode: 0,
    lines: lines.map((l) => `${l}: ${req.level === "terminate" ? "terminated" : first}`),
  };
}

function send(pid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(pid, signal);
  } catch { /* ended meanwhile */ }
}

function isAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/\) Z /.test(stat); // a zombie has ended: only its parent's wait is missing
  } catch {
    return false;
  }
}
