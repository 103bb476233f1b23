// Detection switches and counters (spec §3.3, §3.6, §3.8): checker on|off, errd on|off|enable|disable|list,
// incloop/resetloop/checkloop, and `kill` (local: it acts on this host's processes).
import { join } from "node:path";
import { moduleArg, parseVerbArgs } from "./argv.ts";
import { CliError } from "./cli_error.ts";
import { printJson, type Verb } from "./context.ts";
import { expectOk } from "./daemon_client.ts";

function onOff(verb: string, v: string | undefined): "on" | "off" {
  if (v === "on" || v === "off") return v;
  throw new CliError(`'${verb}' expects on or off, got '${v ?? ""}'`);
}

export const checker: Verb = async (ctx, args) => {
  const a = parseVerbArgs("checker", args, { values: ["m"], positionals: [1, 1] });
  const m = moduleArg("checker", a);
  const value = onOff("checker", a.positionals[0]);
  expectOk(await ctx.client.request("POST", `/api/v1/modules/${m}/switches/checker`, { value }));
  if (!ctx.json) ctx.io.out(`checkers ${value} for module ${m} (kept across restarts: usersetting.checker)`);
  return 0;
};

export const errd: Verb = async (ctx, args) => {
  const a = parseVerbArgs("errd", args, { values: ["m"], positionals: [1, 2] });
  const m = moduleArg("errd", a);
  const [sub, cls] = a.positionals;
  if (sub === "on" || sub === "off") {
    expectOk(await ctx.client.request("POST", `/api/v1/modules/${m}/switches/errd`, { value: sub }));
    if (!ctx.json) {
      ctx.io.out(`process monitoring ${sub} for module ${m} (kept across restarts: usersetting.errd)`);
    }
    return 0;
  }
  if (sub === "enable" || sub === "disable") {
    if (!cls) throw new CliError(`'errd ${sub}' needs a class name: safekit errd ${sub} "classname" -m ${m}`);
    expectOk(
      await ctx.client.request("POST", `/api/v1/modules/${m}/switches/errdclass`, {
        value: sub === "enable" ? "on" : "off",
        class: cls,
      }),
    );
    return 0;
  }
  if (sub === "list") {
    // The running errd keeps SAFEVAR/modules/AM/errdlist (one line per <proc>, spec §3.6): print it.
    const listed = await Deno.readTextFile(join(ctx.paths.moduleVar(m), "errdlist")).catch(() => null);
    if (listed !== null && !ctx.json) {
      ctx.io.out(listed.replace(/\n$/, ""));
      return 0;
    }
    const res = expectOk<{ name: string; value: string }[]>(
      await ctx.client.request("GET", `/api/v1/modules/${m}/resources`),
    );
    const procs = res.filter((r) => r.name.startsWith("proc.") || r.name === "usersetting.errd");
    if (ctx.json) return printJson(ctx, procs), 0;
    for (const r of procs) ctx.io.out(`${r.name} ${r.value}`);
    return 0;
  }
  throw new CliError(`'errd': expected on, off, enable CLASS, disable CLASS or list, got '${sub}'`);
};

function loopVerb(op: "incloop" | "resetloop" | "checkloop"): Verb {
  return async (ctx, args) => {
    const a = parseVerbArgs(op, args, { values: ["m", "i"] });
    const m = moduleArg(op, a);
    if (op === "incloop" && !a.value("i")) {
      throw new CliError("'incloop' needs the handler's identity: -i <handler>");
    }
    const body = a.value("i") ? { handler: a.value("i") } : {};
    const out = expectOk<{ code: number }>(
      await ctx.client.request("POST", `/api/v1/modules/${m}/loop/${op}`, body),
    );
    if (ctx.json) printJson(ctx, out);
    return out.code;
  };
}
export const incloop = loopVerb("incloop");
export const resetloop = loopVerb("resetloop");
export const checkloop = loopVerb("checkloop");

export const kill: Verb = async (ctx, args) => {
  if (ctx.remote) throw new CliError("'kill' acts on this host's processes: run it on the node itself");
  const { parseKillArgs, runKill } = await import("../errd/mod.ts");
  let req;
  try {
    req = parseKillArgs(args);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const out = await runKill(req);
  for (const l of out.lines) ctx.io.out(l);
  return out.exitCode;
};

/** `safekit failover on|off -m AM` (run it on both nodes): the secondary takes over, or waits (spec §3.6). */
export const failover: Verb = async (ctx, args) => {
  const a = parseVerbArgs("failover", args, { values: ["m"], positionals: [1, 1] });
  const m = moduleArg("failover", a);
  const value = onOff("failover", a.positionals[0]);
  expectOk(await ctx.client.request("POST", `/api/v1/modules/${m}/switches/failover`, { value }));
  if (!ctx.json) ctx.io.out(`failover ${value} for module ${m} on this node (run it on every node)`);
  return 0;
};

/** `safekit boot on|off|status [-m AM]`: start at boot when <service boot="ignore"> (spec §2.5). */
export const boot: Verb = async (ctx, args) => {
  const a = parseVerbArgs("boot", args, { values: ["m"], positionals: [1, 1] });
  const sub = a.positionals[0];
  if (sub === "status") {
    const mods = a.value("m")
      ? [{ name: moduleArg("boot", a) }]
      : expectOk<{ name: string; configured: boolean }[]>(await ctx.client.request("GET", "/api/v1/modules"))
        .filter((x) => x.configured);
    for (const mod of mods) {
      const r = await ctx.client.request("GET", `/api/v1/modules/${mod.name}/resources/usersetting.boot`);
      const v = r.status === 200 ? (r.json as { value: string }).value : "off";
      ctx.io.out(`${mod.name} boot ${v}`);
    }
    return 0;
  }
  const m = moduleArg("boot", a);
  const value = onOff("boot", sub);
  expectOk(await ctx.client.request("POST", `/api/v1/modules/${m}/switches/boot`, { value }));
  if (!ctx.json) {
    ctx.io.out(`boot ${value} for module ${m} (applies with <service boot="ignore">, the default)`);
  }
  return 0;
};
