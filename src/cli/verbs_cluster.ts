// Cluster verbs (spec §3.2): confcheck, config, confinfo, state, deconfig, genkey, delkey, export.
import { parseVerbArgs } from "./argv.ts";
import { CliError } from "./cli_error.ts";
import { printJson, table, type Verb } from "./context.ts";
import { expectOk } from "./daemon_client.ts";
import { resolveFile } from "./verbs_monitoring.ts";

type NodeConfInfo = { node: string; signature: string; date: string; lock: boolean; error?: string };
type ModuleConfRow = {
  node: string;
  module: string;
  mode: string;
  id: number;
  date: string;
  signature: string;
  error?: string;
};

export const cluster: Verb = async (ctx, args) => {
  const [sub, ...rest] = args;
  switch (sub) {
    case "confcheck": {
      const a = parseVerbArgs("cluster confcheck", rest, { positionals: [1, 1] });
      const text = await Deno.readTextFile(resolveFile(ctx, a.positionals[0])).catch((e) => {
        throw new CliError(`cannot read '${a.positionals[0]}': ${e.message}`);
      });
      const out = expectOk<{ nodes: string[]; warnings: string[] }>(
        await ctx.client.request("POST", "/api/v1/cluster/confcheck", text),
      );
      if (ctx.json) return printJson(ctx, out), 0;
      for (const w of out.warnings) ctx.io.out(`Warning: ${w}`);
      ctx.io.out(`cluster configuration is valid (nodes: ${out.nodes.join(", ")})`);
      return 0;
    }
    case "config": {
      const a = parseVerbArgs("cluster config", rest, { positionals: [0, 2] });
      let file: string | undefined;
      let lock: string | undefined;
      for (const p of a.positionals) {
        if (p === "lock" || p === "unlock") lock = p;
        else if (file === undefined) file = p;
        else {throw new CliError(
            `'cluster config': unexpected argument '${p}' (expected [FILE] [lock|unlock])`,
          );}
      }
      const body = file ? await Deno.readFile(resolveFile(ctx, file)) : new Uint8Array();
      const q = lock ? `?lock=${lock}` : "";
      const out = expectOk<{ signature: string; node: string; warnings: string[] }>(
        await ctx.client.request("PUT", `/api/v1/cluster/config${q}`, body),
      );
      if (ctx.json) return printJson(ctx, out), 0;
      ctx.io.out(`cluster configuration applied on ${out.node} (signature ${out.signature})`);
      for (const w of out.warnings ?? []) ctx.io.err(`Warning: ${w}`);
      return 0;
    }
    case "confinfo": {
      parseVerbArgs("cluster confinfo", rest, {});
      const rows = expectOk<NodeConfInfo[]>(await ctx.client.request("GET", "/api/v1/cluster/confinfo"));
      if (ctx.json) return printJson(ctx, rows), 0;
      ctx.io.out(table([
        ["Node", "Signature", "Date", "Lock"],
        ...rows.map((r) =>
          r.error ? [r.node, r.error, "", ""] : [r.node, r.signature, r.date, r.lock ? "1" : "0"]
        ),
      ]));
      return 0;
    }
    case "state": {
      parseVerbArgs("cluster state", rest, {});
      const rows = expectOk<ModuleConfRow[]>(await ctx.client.request("GET", "/api/v1/cluster/state"));
      if (ctx.json) return printJson(ctx, rows), 0;
      ctx.io.out(table([
        ["Node", "Module", "Mode", "Id", "Date", "Signature"],
        ...rows.map((r) =>
          r.error
            ? [r.node, r.error, "", "", "", ""]
            : [r.node, r.module, r.mode, String(r.id), r.date, r.signature]
        ),
      ]));
      return 0;
    }
    case "deconfig":
      parseVerbArgs("cluster deconfig", rest, {});
      expectOk(await ctx.client.request("DELETE", "/api/v1/cluster/config"));
      if (!ctx.json) ctx.io.out("cluster configuration and key removed");
      return 0;
    case "genkey":
      parseVerbArgs("cluster genkey", rest, {});
      expectOk(await ctx.client.request("POST", "/api/v1/cluster/key"));
      if (!ctx.json) {
        ctx.io.out(`new cluster key created; run 'safekit -H "*" -G' to give it to the other nodes`);
      }
      return 0;
    case "delkey":
      parseVerbArgs("cluster delkey", rest, {});
      expectOk(await ctx.client.request("DELETE", "/api/v1/cluster/key"));
      if (!ctx.json) {
        ctx.io.out(`cluster key removed; run 'safekit -H "*" -G' to apply it on the other nodes`);
      }
      return 0;
    case "export": {
      const a = parseVerbArgs("cluster export", rest, { positionals: [1, 1] });
      const r = await ctx.client.request("GET", "/api/v1/cluster/export");
      if (r.status !== 200 || !r.bytes) expectOk(r);
      const file = resolveFile(ctx, a.positionals[0]);
      await Deno.writeFile(file, r.bytes!, { mode: 0o600 });
      if (!ctx.json) ctx.io.out(`cluster configuration and key exported to ${file} (keep it secret)`);
      return 0;
    }
    default:
      throw new CliError(
        `'cluster': unknown sub-command '${
          sub ?? ""
        }' (expected confcheck, config, confinfo, state, deconfig, ` +
          `genkey, delkey or export)`,
      );
  }
};
