// Module configuration verbs (spec §3.5): module install|uninstall|list|listid|package|getports,
// config, deconfig, confcheck, confinfo.
import { moduleArg, parseVerbArgs } from "./argv.ts";
import { CliError } from "./cli_error.ts";
import { printJson, table, type Verb } from "./context.ts";
import { expectOk } from "./daemon_client.ts";
import { resolveFile } from "./verbs_monitoring.ts";

type Ports = {
  module: string;
  id: number;
  ports: { process: string; name: string; proto: string; port: number }[];
};

export const module: Verb = async (ctx, args) => {
  const [sub, ...rest] = args;
  switch (sub) {
    case "install": {
      const a = parseVerbArgs("module install", rest, {
        flags: ["r"],
        values: ["m", "M"],
        positionals: [0, 1],
      });
      const m = moduleArg("module install", a);
      const q = new URLSearchParams({ name: m });
      if (a.value("M") !== undefined) q.set("id", a.value("M")!);
      if (a.has("r")) q.set("reinstall", "1");
      const file = a.positionals[0];
      const body = file ? await readFileArg(resolveFile(ctx, file)) : new Uint8Array();
      const out = expectOk<{ name: string; id: number; source: string }>(
        await ctx.client.request("POST", `/api/v1/modules?${q}`, body),
      );
      if (ctx.json) return printJson(ctx, out), 0;
      ctx.io.out(`module ${out.name} installed with id ${out.id} from ${file ?? out.source}`);
      return 0;
    }
    case "uninstall": {
      const a = parseVerbArgs("module uninstall", rest, { values: ["m"] });
      const m = moduleArg("module uninstall", a);
      expectOk(await ctx.client.request("DELETE", `/api/v1/modules/${m}`));
      if (!ctx.json) {
        ctx.io.out(`module ${m} uninstalled (configuration archived in Application_Modules/backup)`);
      }
      return 0;
    }
    case "list":
    case "listid": {
      parseVerbArgs(`module ${sub}`, rest, {});
      const mods = expectOk<{ name: string; id: number; mode: string }[]>(
        await ctx.client.request("GET", "/api/v1/modules"),
      );
      if (ctx.json) return printJson(ctx, mods), 0;
      for (const m of mods) ctx.io.out(sub === "list" ? m.name : `${m.name} ${m.id}`);
      return 0;
    }
    case "package": {
      const a = parseVerbArgs("module package", rest, { values: ["m"], positionals: [1, 1] });
      const m = moduleArg("module package", a);
      const r = await ctx.client.request("GET", `/api/v1/modules/${m}/package`);
      if (r.status !== 200 || !r.bytes) expectOk(r);
      const file = resolveFile(ctx, a.positionals[0]);
      await Deno.writeFile(file, r.bytes!);
      if (!ctx.json) ctx.io.out(`module ${m} packaged in ${file}`);
      return 0;
    }
    case "getports": {
      const a = parseVerbArgs("module getports", rest, { values: ["m", "i"] });
      const q = a.value("i") !== undefined
        ? `id=${encodeURIComponent(a.value("i")!)}`
        : `module=${moduleArg("module getports", a)}`;
      const p = expectOk<Ports>(await ctx.client.request("GET", `/api/v1/ports?${q}`));
      if (ctx.json) return printJson(ctx, p), 0;
      ctx.io.out("List of the ports used by SafeKit\nProcess Ports");
      let last = "";
      for (const e of p.ports) {
        if (e.process !== last) ctx.io.out(e.process);
        last = e.process;
        ctx.io.out(`${e.name} ${e.proto} ${e.port}`);
      }
      return 0;
    }
    default:
      throw new CliError(
        `'module': unknown sub-command '${
          sub ?? ""
        }' (expected install, uninstall, list, listid, package or getports)`,
      );
  }
};

async function readFileArg(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    throw new CliError(`cannot read '${path}': ${(e as Error).message}`);
  }
}

function simpleModuleVerb(verb: string, method: string, suffix: string, done: (m: string) => string): Verb {
  return async (ctx, args) => {
    const a = parseVerbArgs(verb, args, { values: ["m"] });
    const m = moduleArg(verb, a);
    const out = expectOk(await ctx.client.request(method, `/api/v1/modules/${m}/${suffix}`));
    if (ctx.json) printJson(ctx, out);
    else ctx.io.out(done(m));
    return 0;
  };
}

export const config: Verb = async (ctx, args) => {
  const a = parseVerbArgs("config", args, { values: ["m"] });
  const m = moduleArg("config", a);
  const out = expectOk<{ warnings?: string[] }>(
    await ctx.client.request("POST", `/api/v1/modules/${m}/config`),
  );
  if (ctx.json) return printJson(ctx, out), 0;
  ctx.io.out(`module ${m} configured`);
  for (const w of out.warnings ?? []) ctx.io.err(`Warning: ${w}`);
  return 0;
};
export const deconfig = simpleModuleVerb("deconfig", "POST", "deconfig", (m) => `module ${m} deconfigured`);
export const confcheck = simpleModuleVerb(
  "confcheck",
  "POST",
  "confcheck",
  (m) => `configuration of module ${m} is valid`,
);

export const confinfo: Verb = async (ctx, args) => {
  const a = parseVerbArgs("confinfo", args, { values: ["m"] });
  const m = moduleArg("confinfo", a);
  type Side = { signature: string; mtime: number } | null;
  const info = expectOk<{ active: Side; current: Side }>(
    await ctx.client.request("GET", `/api/v1/modules/${m}/confinfo`),
  );
  if (ctx.json) return printJson(ctx, info), 0;
  const row = (
    label: string,
    s: Side,
  ) => [label, s ? s.signature : "none", s ? String(Math.floor(s.mtime / 1000)) : ""];
  ctx.io.out(
    table([["Configuration", "Signature", "Date"], row("active", info.active), row("current", info.current)]),
  );
  return 0;
};
