// Module control verbs (spec §3.3): start, stop, restart, stopstart, swap [nosync], prim [fullsync],
// second [fullsync], primforce, secondforce -d DATE, forcestop, shutdown, waitstart, waitstop.
import { moduleArg, parseVerbArgs } from "./argv.ts";
import { CliError } from "./cli_error.ts";
import { printJson, type Verb } from "./context.ts";
import { expectOk } from "./daemon_client.ts";
import { waitFor } from "./verbs_monitoring.ts";

function control(verb: string, keyword?: "nosync" | "fullsync"): Verb {
  return async (ctx, args) => {
    const a = parseVerbArgs(verb, args, { values: ["m", "i", "d"], positionals: [0, keyword ? 1 : 0] });
    const m = moduleArg(verb, a);
    const body: Record<string, unknown> = {};
    if (a.value("i") !== undefined) body.identity = a.value("i");
    if (a.positionals.length) {
      if (a.positionals[0] !== keyword) {
        throw new CliError(
          `'${verb}': unexpected argument '${a.positionals[0]}' (expected '${keyword}' or nothing)`,
        );
      }
      body[keyword!] = true;
    }
    if (verb === "secondforce") {
      const d = a.value("d");
      if (!d) throw new CliError("'secondforce' needs a date: -d YYYY-MM-DD[Z] | \"YYYY-MM-DD hh:mm:ss[Z]\"");
      body.date = parseSecondforceDate(d);
    } else if (a.value("d") !== undefined) {
      throw new CliError(`'${verb}': unknown option '-d' (only secondforce takes a date)`);
    }
    const out = expectOk(await ctx.client.request("POST", `/api/v1/modules/${m}/commands/${verb}`, body));
    if (ctx.json) printJson(ctx, out);
    return 0;
  };
}

/** secondforce dates (spec §3.7): local time unless suffixed with Z. */
export function parseSecondforceDate(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2}))?(Z)?$/.exec(text.trim());
  if (!m) {
    throw new CliError(
      `invalid date '${text}' (expected YYYY-MM-DD[Z], "YYYY-MM-DD hh:mm:ss[Z]" or YYYY-MM-DDThh:mm:ss[Z])`,
    );
  }
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map((x) => Number(x ?? 0));
  const t = m[7] ? Date.UTC(y, mo - 1, d, h, mi, s) : new Date(y, mo - 1, d, h, mi, s).getTime();
  const back = new Date(t);
  const check = m[7]
    ? [back.getUTCFullYear(), back.getUTCMonth() + 1, back.getUTCDate()]
    : [back.getFullYear(), back.getMonth() + 1, back.getDate()];
  if (check[0] !== y || check[1] !== mo || check[2] !== d || h > 23 || mi > 59 || s > 59) {
    throw new CliError(`invalid date '${text}' (no such day or time)`);
  }
  return t;
}

export const start = control("start");
export const stop = control("stop");
export const restart = control("restart");
export const stopstart = control("stopstart");
export const forcestop = control("forcestop");
export const primforce = control("primforce");
export const secondforce = control("secondforce");
export const swap = control("swap", "nosync");
export const prim = control("prim", "fullsync");
export const second = control("second", "fullsync");

export const shutdown: Verb = async (ctx, args) => {
  parseVerbArgs("shutdown", args, {});
  expectOk(await ctx.client.request("POST", "/api/v1/shutdown"));
  return 0;
};

export const waitstart: Verb = async (ctx, args) => {
  const a = parseVerbArgs("waitstart", args, { values: ["m", "t"] });
  const m = moduleArg("waitstart", a);
  return await waitFor(ctx, m, (s, q) => s !== "STOP" && q !== "Transient", Number(a.value("t") ?? "0"));
};

export const waitstop: Verb = async (ctx, args) => {
  const a = parseVerbArgs("waitstop", args, { values: ["m", "t"] });
  const m = moduleArg("waitstop", a);
  return await waitFor(ctx, m, (s) => s === "STOP", Number(a.value("t") ?? "0"));
};
