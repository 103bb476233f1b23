// `safekit demo [DIR]`: a working two-node cluster on one machine, on 127.0.0.2 and 127.0.0.3, each node
// with its own SAFE and SAFEVAR under DIR, exactly as two servers would be. It configures the cluster,
// installs a demo mirror module on both through the real API, and keeps both node services running.
import { join, resolve } from "node:path";
import { CliError } from "../cli/cli_error.ts";
import type { CliIo } from "../cli/context.ts";
import { expectOk, LocalDaemonClient } from "../cli/daemon_client.ts";
import { packageModuleDir } from "../module_package/mod.ts";
import { scrubbedEnv } from "../platform/child_env.ts";
import { FileUserStore, usersFilePath } from "../web/auth/mod.ts";
import { nodePaths } from "../platform/node_paths.ts";
import { selfCommand } from "../platform/self_command.ts";

const NODES = [{ name: "node1", addr: "127.0.0.2" }, { name: "node2", addr: "127.0.0.3" }];
const MODULE = "demo";

const CLUSTER_XML = `<cluster>
  <lans>
    <lan name="default">
${NODES.map((n) => `      <node name="${n.name}" addr="${n.addr}"/>`).join("\n")}
    </lan>
  </lans>
</cluster>
`;

// %SAFEUSERVAR% expands from the scripts' environment, so each node writes into its own folder.
const USERCONFIG_XML = `<!DOCTYPE safe>
<safe>
<service mode="mirror" defaultprim="alone">
  <heart pulse="500ms" timeout="5s">
    <heartbeat name="default"/>
  </heart>
  <user nicestoptimeout="30s" forcestoptimeout="30s">
    <var name="DEMO_MESSAGE" value="hello from the safekit demo"/>
  </user>
</service>
</safe>
`;

const START_PRIM = `#!/bin/sh
# Demo application: a heartbeat file written while this node is primary.
echo "$(date '+%F %T') start_prim $*: $DEMO_MESSAGE" >> "$SAFEUSERVAR/demo-app.log"
`;
const STOP_PRIM = `#!/bin/sh
echo "$(date '+%F %T') stop_prim $*" >> "$SAFEUSERVAR/demo-app.log"
`;

export async function runDemo(args: readonly string[], io: CliIo): Promise<number> {
  if (args.length > 1) throw new CliError("usage: safekit demo [DIR]");
  const dir = resolve(args[0] ?? ".demo");
  const isRoot = Deno.uid?.() === 0;
  io.out(`safekit demo: a 2-node cluster under ${dir}`);
  if (!isRoot) {
    io.out("  (not root: the demo module uses no virtual IP, which needs root; everything else runs)");
  }
  await Deno.mkdir(dir, { recursive: true });
  const children: Deno.ChildProcess[] = [];
  const stopAll = async () => {
    for (const c of children) {
      try {
        c.kill("SIGTERM");
      } catch { /* already gone */ }
    }
    await Promise.allSettled(children.map((c) => c.status));
  };

  try {
    const clients = [];
    for (const n of NODES) {
      const paths = nodePaths(join(dir, n.name, "safe"), join(dir, n.name, "var"));
      const env = { ...scrubbedEnv(), SAFE: paths.safe, SAFEVAR: paths.safevar, SAFENODE: n.name };
      const [cmd, ...pre] = selfCommand();
      await Deno.mkdir(join(dir, n.name), { recursive: true });
      await Deno.writeTextFile(
        join(dir, n.name, "safekit"),
        `#!/bin/sh\n# The safekit command for demo node ${n.name}.\nSAFE='${paths.safe}' SAFEVAR='${paths.safevar}' ` +
          `SAFENODE='${n.name}' exec ${[cmd, ...pre].map((a) => `'${a}'`).join(" ")} "$@"\n`,
        { mode: 0o755 },
      );
      const log = await Deno.open(join(dir, n.name, "daemon.log"), {
        create: true,
        append: true,
        write: true,
      });
      const child = new Deno.Command(cmd, {
        args: [...pre, "daemon"],
        env,
        clearEnv: true,
        stdin: "null",
        stdout: log.writable ? "piped" : "null",
        stderr: "piped",
      }).spawn();
      child.stdout.pipeTo(log.writable, { preventClose: true }).catch(() => {});
      child.stderr.pipeTo(log.writable).catch(() => {});
      children.push(child);
      clients.push({ node: n, paths, client: new LocalDaemonClient(paths.controlSocket, "demo") });
    }
    for (const c of clients) await waitForSocket(c.client, c.node.name);

    // There is never an open admin account: the demo makes a random password for 'admin' on both nodes.
    const passwordFile = join(dir, "admin-password.txt");
    let password = (await Deno.readTextFile(passwordFile).catch(() => "")).trim();
    if (!password) {
      password = Array.from(
        crypto.getRandomValues(new Uint8Array(12)),
        (b) => b.toString(16).padStart(2, "0"),
      ).join("");
      await Deno.writeTextFile(passwordFile, password + "\n", { mode: 0o600 });
    }
    for (const c of clients) {
      await new FileUserStore(usersFilePath(c.paths.safe)).setPassword("admin", password, { role: "Admin" });
    }

    // Cluster: node1 creates the configuration and key; node2 receives the same bundle.
    const clusterFile = join(dir, "cluster.xml");
    await Deno.writeTextFile(clusterFile, CLUSTER_XML);
    const [first, second] = clients;
    expectOk(
      await first.client.request("PUT", "/api/v1/cluster/config", new TextEncoder().encode(CLUSTER_XML)),
    );
    const bundle = await first.client.request("GET", "/api/v1/cluster/export");
    if (!bundle.bytes) expectOk(bundle);
    expectOk(await second.client.request("PUT", "/api/v1/cluster/config", bundle.bytes!));
    io.out(`  cluster configured: ${NODES.map((n) => `${n.name} ${n.addr}`).join(", ")}`);

    // Module: built as a real .safe, installed and configured on both nodes with the same id.
    const tree = join(dir, "demo_module");
    await Deno.mkdir(join(tree, "conf"), { recursive: true });
    await Deno.mkdir(join(tree, "bin"), { recursive: true });
    await Deno.writeTextFile(join(tree, "conf", "userconfig.xml"), USERCONFIG_XML);
    await Deno.writeTextFile(join(tree, "bin", "start_prim"), START_PRIM, { mode: 0o755 });
    await Deno.writeTextFile(join(tree, "bin", "stop_prim"), STOP_PRIM, { mode: 0o755 });
    await Deno.chmod(join(tree, "bin", "start_prim"), 0o755);
    await Deno.chmod(join(tree, "bin", "stop_prim"), 0o755);
    const safe = await packageModuleDir(tree);
    await Deno.writeFile(join(dir, `${MODULE}.safe`), safe);
    for (const c of clients) {
      const q = `?name=${MODULE}&id=1&reinstall=1`;
      const mods = expectOk<{ name: string; state: unknown }[]>(
        await c.client.request("GET", "/api/v1/modules"),
      );
      const existing = mods.find((m) => m.name === MODULE);
      if (!existing) expectOk(await c.client.request("POST", `/api/v1/modules${q}`, safe));
      if (!existing?.state) expectOk(await c.client.request("POST", `/api/v1/modules/${MODULE}/config`));
    }
    io.out(`  module '${MODULE}' (mirror, id 1) installed and configured on both nodes`);
    io.out("");
    io.out("Try, in another terminal:");
    io.out(
      `  ${dir}/node1/safekit -H "*" state           # modules and states on every node (distributed command)`,
    );
    io.out(`  ${dir}/node1/safekit prim -m ${MODULE}        # node1 becomes primary: ALONE, start_prim runs`);
    io.out(`  ${dir}/node2/safekit second -m ${MODULE}      # node2 becomes secondary: PRIM / SECOND`);
    io.out(
      `  curl -i http://127.0.0.2:9010/var/modules/${MODULE}/ready.txt   # health probe: 200 on the primary`,
    );
    io.out(`  ${dir}/node1/safekit swap -m ${MODULE}        # the application moves to node2`);
    io.out(`  ${dir}/node2/safekit stop -m ${MODULE}        # node1 takes over (remote stop)`);
    io.out(`  ${dir}/node1/safekit log -m ${MODULE}         # what happened, in SafeKit's words`);
    io.out(
      `  cat ${dir}/node1/var/modules/${MODULE}/demo-app.log   # what the demo application's scripts did`,
    );
    io.out(`  ${dir}/node1/safekit cluster confinfo; ${dir}/node1/safekit module getports -m ${MODULE}`);
    io.out(`  curl -s http://127.0.0.2:9010/api/openapi.json | head -c 300`);
    io.out("  # the API needs a login: user admin, password in " + passwordFile);
    io.out(`  curl -c /tmp/sk.cookies -d "httpd_username=admin&httpd_password=$(cat ${passwordFile})" \\`);
    io.out(
      `       http://127.0.0.2:9010/login && curl -b /tmp/sk.cookies http://127.0.0.2:9010/api/v1/modules`,
    );
    io.out("Heartbeats: 500 ms, timeout 5 s (kill -9 a node service to see a failover).");
    io.out("Node service logs: " + NODES.map((n) => `${dir}/${n.name}/daemon.log`).join(", "));
    io.out("Press Ctrl+C to stop both node services.");

    const stop = Promise.withResolvers<void>();
    Deno.addSignalListener("SIGINT", () => stop.resolve());
    Deno.addSignalListener("SIGTERM", () => stop.resolve());
    const died = Promise.race(children.map((c, i) => c.status.then((s) => ({ i, s }))));
    const r = await Promise.race([stop.promise.then(() => null), died]);
    if (r) {
      io.err(
        `node service of ${NODES[r.i].name} exited (code ${r.s.code}); see ${dir}/${
          NODES[r.i].name
        }/daemon.log`,
      );
    }
    await stopAll();
    io.out("demo stopped");
    return r ? 1 : 0;
  } catch (e) {
    await stopAll();
    throw e;
  }
}

async function waitForSocket(client: LocalDaemonClient, name: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      const r = await client.request("GET", "/api/v1/node");
      if (r.status === 200) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new CliError(`node service of ${name} did not start within 20 s`);
}
