// Monitoring verbs (spec §3.4): level, state, waitstate, log, logview, logsave, printi/printe, get/set, cmdlog.
import { isAbsolute, resolve } from "node:path";
import { STATE_EXIT_CODE } from "../daemon/module_states.ts";
import type { LocalState } from "../daemon/module_states.ts";
import { moduleArg, parseVerbArgs } from "./argv.ts";
import { CliError } from "./cli_error.ts";
import { type CliContext, printJson, table, type Verb } from "./context.ts";
import { expectOk } from "./daemon_client.ts";

type ModuleSummary = {
  name: string;
  id: number;
  mode: string;
  configured: boolean;
  state: { local: LocalState; qualifier: string; remote?: string } | null;
};
type Resource = { name: string; value: string; at: number; by?: string };
type LogRow = { id: number; line: string };

export const level: Verb = async (ctx, args) => {
  const a = parseVerbArgs("level", args, { values: ["m"] });
  const info = expectOk<Record<string, string> & { networkProblems?: string[] }>(
    await ctx.client.request("GET", "/api/v1/node"),
  );
  if (ctx.json) return printJson(ctx, info), 0;
  ctx.io.out(`Host: ${info.host}\nOS: ${info.os}\nSafeKit: ${info.version}\nLicense: ${info.license}`);
  if (info.node) ctx.io.out(`Node: ${info.node}`);
  for (const p of info.networkProblems ?? []) ctx.io.out(`Warning: ${p}`);
  if (a.value("m")) ctx.io.out(`Module: ${a.value("m")}`);
  return 0;
};

export const state: Verb = async (ctx, args) => {
  const a = parseVerbArgs("state", args, { flags: ["v", "lq"], values: ["m"] });
  if (!a.value("m") && !Deno.env.get("SAFEMODULE")) {
    if (a.has("lq")) throw new CliError("'state -lq' needs a module: -m <module name>");
    const mods = expectOk<ModuleSummary[]>(await ctx.client.request("GET", "/api/v1/modules"));
    if (ctx.json) return printJson(ctx, mods), 0;
    if (mods.length === 0) return ctx.io.out("No module installed"), 0;
    ctx.io.out(table([["Module", "Id", "Mode", "Local state", "Remote state"], ...mods.map(stateRow)]));
    return 0;
  }
  const m = moduleArg("state", a);
  const mod = expectOk<ModuleSummary & { resources?: Resource[] }>(
    await ctx.client.request("GET", `/api/v1/modules/${m}${a.has("v") ? "?resources=1" : ""}`),
  );
  if (a.has("lq")) {
    if (!mod.state) throw new CliError(`module '${m}' is not configured (run 'safekit config -m ${m}')`, 1);
    return STATE_EXIT_CODE[mod.state.local];
  }
  if (ctx.json) return printJson(ctx, mod), 0;
  ctx.io.out(table([["Module", "Id", "Mode", "Local state", "Remote state"], stateRow(mod)]));
  if (a.has("v")) {
    ctx.io.out("");
    ctx.io.out(table((mod.resources ?? []).map((r) => [r.name, r.value, formatDate(r.at)])));
  }
  return 0;
};

function stateRow(m: ModuleSummary): string[] {
  return [
    m.name,
    String(m.id),
    m.mode,
    m.state ? `${m.state.local} ${m.state.qualifier}` : "NOT CONFIGURED",
    m.state?.remote ?? "",
  ];
}

function formatDate(at: number): string {
  const d = new Date(at);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${
    p(d.getMinutes())
  }:${p(d.getSeconds())}`;
}

const WAIT_STATES = new Set(["STOP", "WAIT", "ALONE", "UP", "PRIM", "SECOND"]);

export const waitstate: Verb = async (ctx, args) => {
  const a = parseVerbArgs("waitstate", args, { values: ["m", "t"], positionals: [1, 1] });
  const m = moduleArg("waitstate", a);
  const want = a.positionals[0].toUpperCase();
  if (!WAIT_STATES.has(want)) {
    throw new CliError(
      `'waitstate': unknown state '${a.positionals[0]}' (expected STOP, WAIT, ALONE, UP, PRIM or SECOND)`,
    );
  }
  return await waitFor(ctx, m, (s) => s === want, Number(a.value("t") ?? "0"));
};

export async function waitFor(
  ctx: CliContext,
  module: string,
  done: (local: string, qualifier: string) => boolean,
  timeoutSeconds: number,
): Promise<number> {
  const deadline = timeoutSeconds > 0 ? Date.now() + timeoutSeconds * 1000 : Infinity;
  while (true) {
    const mod = expectOk<ModuleSummary>(await ctx.client.request("GET", `/api/v1/modules/${module}`));
    if (mod.state && done(mod.state.local, mod.state.qualifier)) {
      if (!ctx.json) ctx.io.out(`${module}: ${mod.state.local} ${mod.state.qualifier}`);
      return 0;
    }
    if (Date.now() > deadline) throw new CliError(`timed out waiting for module '${module}'`, 2);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function fetchLog(ctx: CliContext, module: string, verbose: boolean, last: number, sinceId?: number) {
  const q = new URLSearchParams({ verbose: verbose ? "1" : "0", last: String(last) });
  if (sinceId !== undefined) q.set("sinceId", String(sinceId));
  return expectOk<LogRow[]>(await ctx.client.request("GET", `/api/v1/modules/${module}/log?${q}`));
}

function parseCount(verb: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) {
    throw new CliError(`'${verb}': -s expects a number of messages between 1 and 1000000, got '${v}'`);
  }
  return n;
}

export const log: Verb = async (ctx, args) => {
  const a = parseVerbArgs("log", args, { flags: ["A"], values: ["m", "s", "l"] });
  const m = moduleArg("log", a);
  const rows = await fetchLog(ctx, m, a.has("A"), parseCount("log", a.value("s"), 300));
  if (ctx.json) return printJson(ctx, rows), 0;
  for (const r of rows) ctx.io.out(r.line);
  return 0;
};

export const logview: Verb = async (ctx, args) => {
  if (ctx.remote) throw new CliError("'logview' cannot be distributed with -H (use 'log')");
  const a = parseVerbArgs("logview", args, { flags: ["A", "I"], values: ["m", "s", "l", "t"] });
  const m = moduleArg("logview", a);
  const verbose = a.has("A") || a.has("I");
  let rows = await fetchLog(ctx, m, verbose, parseCount("logview", a.value("s"), 300));
  const stopAt = a.value("t") ? Date.now() + Number(a.value("t")) * 1000 : Infinity;
  let last = rows.at(-1)?.id ?? 0;
  for (;;) {
    for (const r of rows) ctx.io.out(ctx.json ? JSON.stringify(r) : r.line);
    if (rows.length) last = rows.at(-1)!.id;
    if (Date.now() > stopAt) return 0;
    await new Promise((r) => setTimeout(r, 500));
    rows = await fetchLog(ctx, m, verbose, 10_000, last);
  }
};

export const logsave: Verb = async (ctx, args) => {
  const a = parseVerbArgs("logsave", args, { flags: ["A"], values: ["m", "l", "s"], positionals: [1, 1] });
  const m = moduleArg("logsave", a);
  const file = a.positionals[0];
  if (!isAbsolute(file)) throw new CliError(`'logsave' needs an absolute file path, got '${file}'`);
  const rows = await fetchLog(ctx, m, a.has("A"), parseCount("logsave", a.value("s"), 1_000_000));
  await Deno.writeTextFile(file, rows.map((r) => r.line).join("\n") + "\n");
  if (!ctx.json) ctx.io.out(`${rows.length} messages saved in ${file}`);
  return 0;
};

function printVerb(levelChar: "I" | "E", verb: string): Verb {
  return async (ctx, args) => {
    const a = parseVerbArgs(verb, args, { values: ["m"], positionals: [1, 1] });
    const m = moduleArg(verb, a);
    expectOk(
      await ctx.client.request("POST", `/api/v1/modules/${m}/log`, {
        level: levelChar,
        message: a.positionals[0],
      }),
    );
    return 0;
  };
}
export const printi = printVerb("I", "printi");
export const printe = printVerb("E", "printe");

export const get: Verb = async (ctx, args) => {
  const a = parseVerbArgs("get", args, { values: ["m", "r"] });
  const m = moduleArg("get", a);
  const r = a.value("r");
  if (!r) throw new CliError("'get' needs a resource: -r <resource>");
  const res = expectOk<Resource>(
    await ctx.client.request("GET", `/api/v1/modules/${m}/resources/${encodeURIComponent(r)}`),
  );
  if (ctx.json) return printJson(ctx, res), 0;
  ctx.io.out(res.value);
  return 0;
};

export const set: Verb = async (ctx, args) => {
  const a = parseVerbArgs("set", args, { flags: ["n", "l"], values: ["m", "r", "v", "i"] });
  const m = moduleArg("set", a);
  const r = a.value("r");
  const v = a.value("v");
  if (!r || v === undefined) throw new CliError("'set' needs -r <resource> and -v <value>");
  if (a.has("n") && a.has("l")) {
    throw new CliError("'set': -n (do not log) and -l (force logging) exclude each other");
  }
  const out = expectOk(
    await ctx.client.request("PUT", `/api/v1/modules/${m}/resources/${encodeURIComponent(r)}`, {
      value: v,
      noLog: a.has("n"),
      forceLog: a.has("l"),
      identity: a.value("i"),
    }),
  );
  if (ctx.json) printJson(ctx, out);
  return 0;
};

export const cmdlog: Verb = async (ctx, args) => {
  const a = parseVerbArgs("cmdlog", args, { values: ["s"] });
  const rows = expectOk<LogRow[]>(
    await ctx.client.request("GET", `/api/v1/cmdlog?last=${parseCount("cmdlog", a.value("s"), 300)}`),
  );
  if (ctx.json) return printJson(ctx, rows), 0;
  for (const r of rows) ctx.io.out(r.line);
  return 0;
};

export function resolveFile(ctx: CliContext, file: string): string {
  return isAbsolute(file) ? file : resolve(ctx.cwd, file);
}
