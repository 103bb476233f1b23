// Distributed commands (spec §3.9): `safekit -H "<hosts>" <verb ...>`, `-H ... -E AM`, `-H ... -G`.
// The verb runs on each target node (POST /api/v1/cli), signed with the cluster key; output comes back per
// server between the SafeKit delimiters.
import { CliError } from "./cli_error.ts";
import type { CliContext } from "./context.ts";
import { type ApiClient, expectOk } from "./daemon_client.ts";
import { clusterCaClient, parseKeyFile, RemoteNodeClient } from "./remote_client.ts";
import { join } from "node:path";

type Target = { node: string | null; url: string };
type Prepared =
  | { kind: "cli" }
  | { kind: "export"; module: string; zip: Uint8Array; id: number; configured: boolean }
  | { kind: "cluster"; zip: Uint8Array };

const NOT_DISTRIBUTABLE = new Set(["logview", "-p", "-r", "daemon", "demo", "--version", "version"]);

export async function distributed(ctx: CliContext, hosts: string, rest: readonly string[]): Promise<number> {
  if (rest.length === 0) throw new CliError(`'-H ${hosts}' needs a command (a verb, -E <module> or -G)`);
  if (NOT_DISTRIBUTABLE.has(rest[0])) throw new CliError(`'${rest[0]}' cannot be distributed with -H`);
  const targets = expectOk<Target[]>(
    await ctx.client.request("GET", `/api/v1/cluster/targets?hosts=${encodeURIComponent(hosts)}`),
  );
  const node = expectOk<{ node: string | null }>(await ctx.client.request("GET", "/api/v1/node")).node;
  if (!node) {
    throw new CliError("this node has no cluster configuration (run 'safekit cluster config' first)");
  }
  const keys = await readKeys(ctx);
  const tls = targets.some((t) => t.url.startsWith("https:"))
    ? await clusterCaClient(join(ctx.paths.safe, "web", "conf", "cacert.crt"))
    : undefined;
  const command = rest.join(" ");

  let prepared: Prepared;
  if (rest[0] === "-E") {
    const m = rest[1];
    if (!m || rest.length !== 2) {
      throw new CliError("'-E' needs exactly one module name: -H <hosts> -E <module>");
    }
    const info = expectOk<{ id: number; configured: boolean }>(
      await ctx.client.request("GET", `/api/v1/modules/${m}`),
    );
    const pkg = await ctx.client.request("GET", `/api/v1/modules/${m}/package`);
    if (pkg.status !== 200 || !pkg.bytes) expectOk(pkg);
    prepared = { kind: "export", module: m, zip: pkg.bytes!, id: info.id, configured: info.configured };
  } else if (rest[0] === "-G") {
    if (rest.length !== 1) throw new CliError("'-G' takes no argument");
    const r = await ctx.client.request("GET", "/api/v1/cluster/export");
    if (r.status !== 200 || !r.bytes) expectOk(r);
    prepared = { kind: "cluster", zip: r.bytes! };
  } else {
    prepared = { kind: "cli" };
  }

  const results = await Promise.all(targets.map(async (t) => {
    const lines: string[] = [];
    let code = 0;
    try {
      for (const [i, key] of keys.entries()) {
        const client = new RemoteNodeClient(t.node ?? t.url, t.url, key, node, command, 30_000, tls);
        try {
          code = await runOnTarget(client, prepared, rest, lines, ctx.json);
          break;
        } catch (e) {
          // After `cluster genkey` the targets still hold the previous key until -G reaches them.
          if (i + 1 < keys.length && e instanceof CliError && /bad cluster signature/.test(e.message)) {
            continue;
          }
          throw e;
        }
      }
    } catch (e) {
      lines.push(`Error: ${(e as Error).message}`);
      code = 1;
    }
    return { t, lines, code };
  }));
  let worst = 0;
  for (const r of results) {
    ctx.io.out(`---------------- Server=${r.t.url} ----------------`);
    if (r.lines.length) ctx.io.out(r.lines.join("\n"));
    worst = Math.max(worst, r.code);
  }
  return worst;
}

async function runOnTarget(
  client: ApiClient,
  prepared: Prepared,
  rest: readonly string[],
  lines: string[],
  json: boolean,
): Promise<number> {
  if (prepared.kind === "export") {
    const q = new URLSearchParams({ name: prepared.module, id: String(prepared.id), reinstall: "1" });
    expectOk(await client.request("POST", `/api/v1/modules?${q}`, prepared.zip));
    lines.push(`module ${prepared.module} installed with id ${prepared.id}`);
    if (prepared.configured) {
      expectOk(await client.request("POST", `/api/v1/modules/${prepared.module}/config`));
      lines.push(`module ${prepared.module} configured`);
    }
    return 0;
  }
  if (prepared.kind === "cluster") {
    const out = expectOk<{ signature: string }>(
      await client.request("PUT", "/api/v1/cluster/import", prepared.zip),
    );
    lines.push(`cluster configuration applied (signature ${out.signature})`);
    return 0;
  }
  const out = expectOk<{ code: number; output: string }>(
    await client.request("POST", "/api/v1/cli", { args: json ? ["--json", ...rest] : rest }),
  );
  if (out.output) lines.push(out.output.replace(/\n$/, ""));
  return out.code;
}

async function readKeys(ctx: CliContext): Promise<Uint8Array[]> {
  const keys: Uint8Array[] = [];
  for (const f of [ctx.paths.clusterKey, ctx.paths.clusterKey + ".prev"]) {
    try {
      keys.push(parseKeyFile(await Deno.readTextFile(f)));
    } catch (e) {
      if (e instanceof CliError) throw e;
    }
  }
  if (keys.length === 0) {
    throw new CliError(
      "this node has no cluster key, so it cannot sign distributed commands (run 'safekit cluster config')",
    );
  }
  return keys;
}
