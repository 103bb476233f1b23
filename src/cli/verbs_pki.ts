// HTTPS setup with the built-in CA (spec §9.1): initssl sca|req|rca, startcaserv/stopcaserv, checkcert,
// makeusercert, rmcerts. They act on SAFE/web/conf directly (root only), like SafeKit's web/bin tools;
// `safekit webserver restart` then makes the node service switch to HTTPS (or back to HTTP).
import { join } from "node:path";
import { addrOf, parseClusterXml } from "../config/mod.ts";
import { findLocalNode } from "../daemon/cluster_manager.ts";
import { scrubbedEnv } from "../platform/child_env.ts";
import type { NodePaths } from "../platform/node_paths.ts";
import { selfCommand } from "../platform/self_command.ts";
import { parseVerbArgs } from "./argv.ts";
import { CliError } from "./cli_error.ts";
import type { CliContext, Verb } from "./context.ts";
import { expectOk } from "./daemon_client.ts";

async function identity(paths: NodePaths) {
  const pki = await import("../web/pki/mod.ts");
  let cluster, localNode;
  try {
    cluster = parseClusterXml(await Deno.readTextFile(paths.clusterXml), paths.clusterXml);
    localNode = findLocalNode(cluster, Deno.env.get("SAFENODE") || undefined);
  } catch { /* no cluster yet: the certificate holds the host name only */ }
  return { pki, node: { files: pki.pkiFiles(paths.safe), hostname: Deno.hostname(), cluster, localNode } };
}

function done(ctx: CliContext, r: { ok: boolean; lines: readonly string[] }): number {
  for (const l of r.lines) ctx.io.out(l);
  return r.ok ? 0 : 1;
}

async function guard<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    const name = (e as Error).name;
    if (name === "InitSslError" || name === "CsrError") throw new CliError((e as Error).message);
    throw e;
  }
}

export const initssl: Verb = async (ctx, args) => {
  if (ctx.remote) throw new CliError("'initssl' acts on this node's files: run it on the node itself");
  const [sub, ...rest] = args;
  const { pki, node } = await identity(ctx.paths);
  switch (sub) {
    case "sca": {
      const a = parseVerbArgs("initssl sca", rest, { flags: ["f"], positionals: [0, 1] });
      return done(
        ctx,
        await guard(() => pki.initsslSca(node, { subject: a.positionals[0], force: a.has("f") })),
      );
    }
    case "rca":
      parseVerbArgs("initssl rca", rest, {});
      return done(ctx, await guard(() => pki.initsslRca(node)));
    case "req": {
      const a = parseVerbArgs("initssl req", rest, { values: ["f"], positionals: [2, 2] });
      const [caUrl, cred] = a.positionals;
      const i = cred.indexOf(":");
      if (i < 0) throw new CliError("'initssl req' needs the CA password: CA_admin:<password>");
      return done(
        ctx,
        await guard(() =>
          pki.initsslReq(node, {
            caUrl,
            user: cred.slice(0, i),
            password: cred.slice(i + 1),
            fingerprint: a.value("f"),
          })
        ),
      );
    }
    default:
      throw new CliError(`'initssl': expected sca, req URL CA_admin:PASSWORD, or rca (got '${sub ?? ""}')`);
  }
};

export const checkcert: Verb = async (ctx, args) => {
  const a = parseVerbArgs("checkcert", args, { values: ["t", "h", "i"] });
  const target = (a.value("t") ?? "all") as "all" | "server" | "CA";
  if (!["all", "server", "CA"].includes(target)) {
    throw new CliError("'checkcert -t' expects all, server or CA");
  }
  const { pki, node } = await identity(ctx.paths);
  let dns = a.value("h") ? [a.value("h")!] : undefined;
  let ips = a.value("i") ? [a.value("i")!] : undefined;
  if (!dns && !ips && node.cluster && node.localNode) {
    // Without -h/-i: the server certificate must cover every address this node has in cluster.xml (a
    // certificate missing one fails peers and distributed commands on that lan).
    const own = pki.serverSanEntries(node).filter((e) => e.value !== node.hostname);
    ips = own.filter((e) => e.type === "ip").map((e) => e.value);
    dns = own.filter((e) => e.type === "dns").map((e) => e.value);
  }
  const r = await pki.checkCert(node.files, { target, dns, ips });
  ctx.io.out(pki.formatFindings(r.findings));
  return r.ok ? 0 : 1;
};

export const makeusercert: Verb = async (ctx, args) => {
  const a = parseVerbArgs("makeusercert", args, { positionals: [2, 2] });
  const [name, role] = a.positionals;
  if (role !== "Admin" && role !== "Control" && role !== "Monitor") {
    throw new CliError(`'makeusercert': role must be Admin, Control or Monitor, got '${role}'`);
  }
  const { pki, node } = await identity(ctx.paths);
  const out = await guard(() => pki.makeUserCert(node, name, role));
  ctx.io.out(`client certificate ${out.certPath} (key ${out.keyPath})`);
  return 0;
};

export const rmcerts: Verb = async (ctx, args) => {
  const a = parseVerbArgs("rmcerts", args, { positionals: [0, 1] });
  if (a.positionals[0] !== undefined && a.positionals[0] !== "CA") {
    throw new CliError("'rmcerts' takes only 'CA'");
  }
  const { pki, node } = await identity(ctx.paths);
  const removed = await pki.rmcerts(node.files, { ca: a.positionals[0] === "CA" });
  for (const r of removed) ctx.io.out(`removed ${r}`);
  ctx.io.out("back to HTTP after 'safekit webserver restart'");
  return 0;
};

const caservPid = (paths: NodePaths) => join(paths.safevar, "run", "safecaserv.pid");

/** `startcaserv PASSWORD`: the CA service on port 9001, detached, for the time of the setup (2 h at most). */
export const startcaserv: Verb = async (ctx, args) => {
  if (ctx.remote) throw new CliError("'startcaserv' runs on the CA node itself");
  const a = parseVerbArgs("startcaserv", args, { positionals: [1, 1] });
  const [cmd, ...pre] = selfCommand();
  const child = new Deno.Command(cmd, {
    args: [...pre, "caserv-run"],
    env: { ...scrubbedEnv(), SAFE: ctx.paths.safe, SAFEVAR: ctx.paths.safevar },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    // Detached: it must not hold the caller's stderr open (a script waiting for this command would hang).
    stderr: "null",
  }).spawn();
  // The password travels on stdin, never in argv or the environment.
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(a.positionals[0] + "\n"));
  await w.close();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  child.unref();
  if (!value || !value.startsWith("{")) throw new CliError("the CA service did not start");
  const info = JSON.parse(value.split("\n")[0]) as { url?: string; fingerprint?: string; error?: string };
  if (info.error) throw new CliError(info.error);
  ctx.io.out(
    `CA service on ${info.url} (CA fingerprint ${info.fingerprint}); stop it with 'safekit stopcaserv'`,
  );
  return 0;
};

export async function runCaService(paths: NodePaths): Promise<number> {
  const { pki, node } = await identity(paths);
  const say = (o: unknown) => Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(o) + "\n"));
  const password = (await new Response(Deno.stdin.readable).text()).split("\n")[0];
  const ca = await pki.loadLocalCa(node.files);
  if (!ca) return say({ error: "no CA on this node: run 'safekit initssl sca' first" }), 1;
  if (!node.cluster || !node.localNode) {
    return say({ error: "the CA service needs the cluster configuration" }), 1;
  }
  const addr = addrOf(node.cluster, node.localNode)!.replace(/^\[|\]$/g, "");
  const svc = await pki.startCaService({
    ca,
    files: node.files,
    password,
    hostname: addr,
    names: [Deno.hostname()],
  });
  await Deno.writeTextFile(caservPid(paths), `${Deno.pid}\n`);
  say({ url: `https://${addr}:${svc.port}`, fingerprint: svc.caFingerprint });
  Deno.addSignalListener("SIGTERM", () => svc.stop());
  await svc.finished;
  await Deno.remove(caservPid(paths)).catch(() => {});
  return 0;
}

export const stopcaserv: Verb = async (ctx, args) => {
  parseVerbArgs("stopcaserv", args, {});
  const pid = Number((await Deno.readTextFile(caservPid(ctx.paths)).catch(() => "")).trim());
  if (!pid) throw new CliError("the CA service is not running");
  Deno.kill(pid, "SIGTERM");
  ctx.io.out("CA service stopped");
  return 0;
};

export const webserver: Verb = async (ctx, args) => {
  const a = parseVerbArgs("webserver", args, { positionals: [1, 1] });
  if (a.positionals[0] !== "restart") throw new CliError("'webserver' expects restart");
  const out = expectOk<{ mode: string; warnings: string[] }>(
    await ctx.client.request("POST", "/api/v1/webserver/restart"),
  );
  ctx.io.out(`web service restarted (${out.mode})`);
  for (const w of out.warnings) ctx.io.err(`Warning: ${w}`);
  return 0;
};
