// `safekit apikey create|list|delete`: bearer API keys for scripts and Prometheus (spec §9.2, 8.2.6).
import { parseVerbArgs } from "./argv.ts";
import { CliError } from "./cli_error.ts";
import { printJson, table, type Verb } from "./context.ts";
import { expectOk } from "./daemon_client.ts";

export const apikey: Verb = async (ctx, args) => {
  const [sub, ...rest] = args;
  switch (sub) {
    case "create": {
      const a = parseVerbArgs("apikey create", rest, { positionals: [2, 2] });
      const [role, name] = a.positionals;
      const out = expectOk<{ token: string; role: string; name: string }>(
        await ctx.client.request(
          "POST",
          `/api/v1/apikey/${encodeURIComponent(role)}/${encodeURIComponent(name)}`,
        ),
      );
      if (ctx.json) return printJson(ctx, out), 0;
      ctx.io.out(out.token);
      ctx.io.err(`API key '${out.name}' (role ${out.role}) created: the token above is shown only once`);
      return 0;
    }
    case "list": {
      parseVerbArgs("apikey list", rest, {});
      const keys = expectOk<{ name: string; role: string; createdAt?: string; createdBy?: string }[]>(
        await ctx.client.request("GET", "/api/v1/apikey"),
      );
      if (ctx.json) return printJson(ctx, keys), 0;
      ctx.io.out(
        table([
          ["Name", "Role", "Created", "By"],
          ...keys.map((k) => [k.name, k.role, k.createdAt ?? "", k.createdBy ?? ""]),
        ]),
      );
      return 0;
    }
    case "delete": {
      const a = parseVerbArgs("apikey delete", rest, { positionals: [2, 2] });
      const [role, name] = a.positionals;
      expectOk(
        await ctx.client.request(
          "DELETE",
          `/api/v1/apikey/${encodeURIComponent(role)}/${encodeURIComponent(name)}`,
        ),
      );
      if (!ctx.json) ctx.io.out(`API key '${name}' deleted`);
      return 0;
    }
    default:
      throw new CliError(
        `'apikey': unknown sub-command '${sub ?? ""}' (expected create ROLE NAME, list, or delete ROLE NAME)`,
      );
  }
};
