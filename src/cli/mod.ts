// The `safekit` command line: parses argv, reaches the node service, prints. Verbs keep SafeKit's names
// and options so administrators' habits carry over (spec §3); every verb also accepts --json.
import { type NodePaths, nodePathsFromEnv } from "../platform/node_paths.ts";
import { CliError } from "./cli_error.ts";
import type { CliContext, CliIo, Verb } from "./context.ts";
import { type ApiClient, LocalDaemonClient } from "./daemon_client.ts";
import { VERSION } from "./version.ts";
import { cluster } from "./verbs_cluster.ts";
import { distributed } from "./verbs_distributed.ts";
import { confcheck, config, confinfo, deconfig, module } from "./verbs_module.ts";
import * as mon from "./verbs_monitoring.ts";
import * as ctl from "./verbs_control.ts";
import { apikey } from "./verbs_apikey.ts";
import * as det from "./verbs_detection.ts";
import * as pkiv from "./verbs_pki.ts";
import * as rfs from "./verbs_rfs.ts";
import { vipIfCtrl } from "./verbs_vip_if_ctrl.ts";

const VERBS: Record<string, Verb> = {
  level: mon.level,
  state: mon.state,
  waitstate: mon.waitstate,
  log: mon.log,
  logview: mon.logview,
  logsave: mon.logsave,
  printi: mon.printi,
  printe: mon.printe,
  get: mon.get,
  set: mon.set,
  cmdlog: mon.cmdlog,
  start: ctl.start,
  stop: ctl.stop,
  restart: ctl.restart,
  stopstart: ctl.stopstart,
  swap: ctl.swap,
  prim: ctl.prim,
  second: ctl.second,
  primforce: ctl.primforce,
  secondforce: ctl.secondforce,
  forcestop: ctl.forcestop,
  shutdown: ctl.shutdown,
  waitstart: ctl.waitstart,
  waitstop: ctl.waitstop,
  apikey,
  rfsverify: rfs.rfsverify,
  rfssync: rfs.rfssync,
  rfsdiff: rfs.rfsdiff,
  checker: det.checker,
  errd: det.errd,
  incloop: det.incloop,
  resetloop: det.resetloop,
  checkloop: det.checkloop,
  kill: det.kill,
  failover: det.failover,
  boot: det.boot,
  initssl: pkiv.initssl,
  checkcert: pkiv.checkcert,
  makeusercert: pkiv.makeusercert,
  rmcerts: pkiv.rmcerts,
  startcaserv: pkiv.startcaserv,
  stopcaserv: pkiv.stopcaserv,
  webserver: pkiv.webserver,
  cluster,
  module,
  config,
  deconfig,
  confcheck,
  confinfo,
};

const USAGE = `usage: safekit <command> [options] [--json]
  daemon                          run the node service (safeadmin) in the foreground
  demo [DIR]                      create and start a 2-node demo cluster on 127.0.0.2 and 127.0.0.3
  -p                              print SAFE, SAFEVAR, SAFEBIN ...
  apikey create Admin|Control|Monitor NAME | apikey list | apikey delete ROLE NAME
  initssl sca|req https://CA:9001 CA_admin:PWD [-f FP]|rca | startcaserv PWD | stopcaserv
  checkcert [-t all|server|CA] [-h DNS] [-i IP] | makeusercert NAME ROLE | rmcerts [CA] | webserver restart
  webservercfg -passwd PWD [-user NAME] [-role Admin|Control|Monitor] | -rcmdpasswd PWD [-rcmduser NAME]
  start|stop|restart|stopstart|forcestop|primforce -m AM [-i ID] | swap [nosync] | prim|second [fullsync]
  secondforce -d DATE -m AM | shutdown | waitstart|waitstop -m AM [-t S]
  rfsverify -m AM                 compare both copies of the replicated directories by checksum
  rfssync [full|default] -m AM    show or set this node's next reintegration policy
  rfsdiff -m AM                   on the primary: what the next reintegration would copy, and how long
  checker on|off -m AM | errd on|off|enable CLASS|disable CLASS|list -m AM | failover on|off -m AM
  boot on|off -m AM | boot status [-m AM]
  incloop -m AM -i ID | resetloop -m AM [-i ID] | checkloop -m AM | kill -name=N [-argregex=RE] -level=L
  level | state [-m AM] [-v|-lq] | waitstate -m AM STATE [-t S] | cmdlog
  log -m AM [-s N] [-A] | logview -m AM [-A] | logsave -m AM [-A] /abs/file | printi|printe -m AM "msg"
  get -m AM -r RES | set -m AM -r RES -v VALUE [-n] [-l] [-i ID]
  cluster confcheck FILE | config [FILE] [lock|unlock] | confinfo | state | deconfig | genkey | delkey | export FILE
  module install -m AM [-M id] [-r] [FILE] | uninstall -m AM | list | listid | package -m AM FILE
  module getports -m AM|-i ID | config -m AM | deconfig -m AM | confcheck -m AM | confinfo -m AM
  -r vip_if_ctrl -l [-m AM]       each farm node's bucket bitmap per load-balancing group
  -H "*"|"node1,node2"|"[http:9010],addr1,addr2"|URLs <command> | -H ... -E AM | -H ... -G
  --version`;

export type RunOptions = {
  io?: CliIo;
  client?: ApiClient;
  paths?: NodePaths;
  remote?: boolean;
  cwd?: string;
};

export async function runCli(argv: readonly string[], opts: RunOptions = {}): Promise<number> {
  const io = opts.io ?? { out: (t) => console.log(t), err: (t) => console.error(t) };
  const json = argv.includes("--json");
  const args = argv.filter((a) => a !== "--json");
  try {
    return await dispatch(args, json, io, opts);
  } catch (e) {
    if (e instanceof CliError) {
      if (json) io.out(JSON.stringify({ error: e.message }));
      else io.err(`Error: ${e.message}`);
      return e.exitCode;
    }
    throw e;
  }
}

async function dispatch(args: string[], json: boolean, io: CliIo, opts: RunOptions): Promise<number> {
  const paths = opts.paths ?? nodePathsFromEnv();
  const [verb, ...rest] = args;
  if (verb === undefined || verb === "help" || verb === "-h" || verb === "--help") {
    io.out(USAGE);
    return verb === undefined ? 1 : 0;
  }
  if (verb === "--version" || verb === "version") {
    io.out(json ? JSON.stringify({ version: VERSION }) : `safekit ${VERSION}`);
    return 0;
  }
  if (verb === "-p") return printPaths(paths, json, io);
  if (verb === "caserv-run") {
    // Internal: the detached CA service that `startcaserv` starts.
    if (opts.remote) throw new CliError("'caserv-run' is internal");
    return await pkiv.runCaService(paths);
  }
  if (verb === "rfs-primary") {
    // Internal: the node service starts it to serve a primary's replicated directories (src/rfs).
    if (opts.remote) throw new CliError("'rfs-primary' is internal to the node service");
    return await (await import("../rfs/mod.ts")).runPrimaryProcess();
  }
  if (verb === "webservercfg") {
    // Local and direct on SAFE/web/conf/user.json (root only), so it works with the node service stopped.
    if (opts.remote) {
      throw new CliError("'webservercfg' cannot be distributed: set each node's password locally");
    }
    const auth = await import("../web/auth/mod.ts");
    try {
      const line = await auth.runWebservercfg(
        new auth.FileUserStore(auth.usersFilePath(paths.safe)),
        auth.parseWebservercfgArgs(rest),
      );
      io.out(json ? JSON.stringify({ ok: true, message: line }) : line);
      return 0;
    } catch (e) {
      if (e instanceof auth.PasswordPolicyError || e instanceof auth.UserStoreError) {
        throw new CliError(e.message);
      }
      throw e;
    }
  }
  if (verb === "daemon" || verb === "demo") {
    if (opts.remote) throw new CliError(`'${verb}' cannot be run remotely`);
    // Loaded lazily: the CLI's usual verbs should not pay for the node service's start-up.
    if (verb === "daemon") return (await import("../daemon/run_daemon.ts")).runDaemon(paths, rest);
    return (await import("../daemon/demo.ts")).runDemo(rest, io);
  }
  const ctx: CliContext = {
    io,
    client: opts.client ?? new LocalDaemonClient(paths.controlSocket, args.join(" ")),
    paths,
    json,
    remote: opts.remote ?? false,
    cwd: opts.cwd ?? Deno.cwd(),
  };
  if (verb === "-H") {
    const [hosts, ...cmd] = rest;
    if (!hosts) throw new CliError(`'-H' needs a host list, e.g. -H "*" or -H "node1,node2"`);
    if (opts.remote) throw new CliError("a distributed command cannot start another distributed command");
    return await distributed(ctx, hosts, json ? [...cmd, "--json"] : cmd);
  }
  if (verb === "-E" || verb === "-G") {
    throw new CliError(`'${verb}' needs a host list first: safekit -H "*" ${verb}`);
  }
  if (verb === "-r") {
    // Special commands (spec §3.8): `safekit -r <command> [args]`.
    const [special, ...sargs] = rest;
    const SPECIAL: Record<string, Verb> = { vip_if_ctrl: vipIfCtrl };
    const runSpecial = special ? SPECIAL[special] : undefined;
    if (!runSpecial) throw new CliError(`'-r' needs a special command: ${Object.keys(SPECIAL).join(", ")}`);
    return await runSpecial(ctx, sargs);
  }
  const run = VERBS[verb];
  if (!run) throw new CliError(`unknown command '${verb}' (run 'safekit help' for the list)`);
  return await run(ctx, rest);
}

function printPaths(paths: NodePaths, json: boolean, io: CliIo): number {
  const vars = {
    SAFE: paths.safe,
    SAFEVAR: paths.safevar,
    SAFEBIN: paths.safebin,
    SAFECONF: paths.safeconf,
    SAFEUSERMODULES: paths.modules,
  };
  if (json) io.out(JSON.stringify(vars));
  else for (const [k, v] of Object.entries(vars)) io.out(`${k}=${v}`);
  return 0;
}

/** Runs a verb inside the node service for a distributed command; returns its exit code and output. */
export async function runCliCaptured(
  args: readonly string[],
  client: ApiClient,
  paths: NodePaths,
): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const io: CliIo = { out: (t) => lines.push(t), err: (t) => lines.push(t) };
  const code = await runCli(args, { io, client, paths, remote: true, cwd: paths.safe });
  return { code, output: lines.join("\n") };
}
