// Pure reading of the Linux process table for errd and `safekit kill` (spec §4.10, §3.8): parse
// /proc/<pid>/stat and /proc/<pid>/cmdline, and decide which processes a <proc> element designates.

export type ProcInfo = {
  readonly pid: number;
  readonly ppid: number;
  /** The kernel's command name: the executable's basename truncated to 15 characters. */
  readonly comm: string;
  /** One-letter state: R, S, D, Z (zombie), T... */
  readonly state: string;
  /** argv; empty for kernel threads. */
  readonly argv: readonly string[];
};

/** Linux keeps TASK_COMM_LEN = 16 bytes for the name, NUL included. */
export const COMM_LENGTH = 15;

/**
 * Parses /proc/<pid>/stat. The name is between the first '(' and the LAST ')': it may itself contain
 * spaces and parentheses, so splitting on spaces would misread it.
 */
export function parseStat(text: string): { pid: number; comm: string; state: string; ppid: number } | null {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 1).trim().split(/\s+/);
  const ppid = Number(rest[1]);
  if (!Number.isInteger(pid) || !Number.isInteger(ppid) || !rest[0]) return null;
  return { pid, comm: text.slice(open + 1, close), state: rest[0], ppid };
}

/** Parses /proc/<pid>/cmdline: arguments separated (and ended) by NUL. */
export function parseCmdline(text: string): string[] {
  const parts = text.split("\0");
  if (parts.at(-1) === "") parts.pop();
  return parts;
}

/** The name the kernel would show for `name`: what a <proc name> is compared with. */
export function commOf(name: string): string {
  return name.slice(0, COMM_LENGTH);
}

/**
 * Converts a POSIX extended regular expression into a JS RegExp. ERE is (nearly) a subset of JS syntax;
 * what differs are bracket expressions with character classes ([[:digit:]]), which JS reads otherwise.
 */
export function posixEre(source: string): RegExp {
  const classes: Record<string, string> = {
    alpha: "a-zA-Z",
    digit: "0-9",
    alnum: "a-zA-Z0-9",
    upper: "A-Z",
    lower: "a-z",
    space: " \\t\\n\\r\\f\\v",
    blank: " \\t",
    punct: "!-\\/:-@\\[-`{-~",
    xdigit: "0-9A-Fa-f",
    cntrl: "\\x00-\\x1f\\x7f",
    print: "\\x20-\\x7e",
    graph: "\\x21-\\x7e",
  };
  return new RegExp(source.replace(/\[:([a-z]+):\]/g, (m, c: string) => classes[c] ?? m));
}

/** Whether a process is designated by a <proc> (or `safekit kill`) selector. */
export type ProcSelector = { readonly name: string; readonly nameRegex?: string; readonly argRegex?: string };

export type CompiledSelector = {
  readonly name: string;
  readonly nameRegex?: RegExp;
  readonly argRegex?: RegExp;
};

export function compileSelector(s: ProcSelector): CompiledSelector {
  return {
    name: s.name,
    nameRegex: s.nameRegex === undefined ? undefined : posixEre(s.nameRegex),
    argRegex: s.argRegex === undefined ? undefined : posixEre(s.argRegex),
  };
}

/**
 * name: the command name, compared as the kernel truncates it (15 characters). nameregex replaces the name
 * test: it must match the command name or the basename of argv[0] (which is not truncated). argregex must
 * match the arguments after argv[0], joined with single spaces. Zombies are not running.
 */
export function matchesProc(s: CompiledSelector, p: ProcInfo): boolean {
  if (p.state === "Z") return false;
  if (s.nameRegex) {
    const full = (p.argv[0] ?? "").split("/").pop() ?? "";
    if (!s.nameRegex.test(p.comm) && !(full !== "" && s.nameRegex.test(full))) return false;
  } else if (p.comm !== commOf(s.name)) {
    return false;
  }
  return s.argRegex ? s.argRegex.test(p.argv.slice(1).join(" ")) : true;
}

export function matchingProcs(s: CompiledSelector, table: readonly ProcInfo[]): ProcInfo[] {
  return table.filter((p) => matchesProc(s, p));
}

/** One line of `errdpoll_running` / `safekit kill -level=test`: `<pid> <comm> <cmd+args> (parent=<ppid>)`. */
export function procLine(p: ProcInfo): string {
  return `${p.pid} ${p.comm} ${p.argv.join(" ") || `[${p.comm}]`} (parent=${p.ppid})`;
}
