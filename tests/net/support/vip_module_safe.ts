// Module packages (.safe) for the end-to-end VIP tests: a mirror module with a one_side_alias VIP and a
// farm module with an alias VIP and one load-balancing rule. Their start script runs vip_app_server.ts on
// VIP:port (answering $SAFENODE) and records when it ran; their stop script kills it.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { packageModuleDir } from "../../../src/module_package/mod.ts";

const APP = fileURLToPath(new URL("./vip_app_server.ts", import.meta.url));

/** Each script appends "<epoch ms> <script> <args>" to SAFEUSERVAR/scripts.log first. */
const record = `echo "$(date +%s%3N) $(basename "$0") $*" >> "$SAFEUSERVAR/scripts.log"`;

function startScript(vip: string, port: number): string {
  return `#!/bin/sh
${record}
nohup '${Deno.execPath()}' run -A --no-prompt '${APP}' ${vip} ${port} "$SAFENODE" "$SAFEUSERVAR/accepted" >> "$SAFEUSERVAR/app.log" 2>&1 &
echo $! > "$SAFEUSERVAR/app.pid"
`;
}

const stopScript = `#!/bin/sh
${record}
[ -f "$SAFEUSERVAR/app.pid" ] && kill -9 "$(cat "$SAFEUSERVAR/app.pid")" 2>/dev/null
rm -f "$SAFEUSERVAR/app.pid"
exit 0
`;

async function pack(root: string, xml: string, scripts: Record<string, string>): Promise<string> {
  const tree = join(root, `tree-${crypto.randomUUID()}`);
  await Deno.mkdir(join(tree, "conf"), { recursive: true });
  await Deno.mkdir(join(tree, "bin"), { recursive: true });
  await Deno.writeTextFile(join(tree, "conf", "userconfig.xml"), xml);
  for (const [name, body] of Object.entries(scripts)) {
    await Deno.writeTextFile(join(tree, "bin", name), body);
    await Deno.chmod(join(tree, "bin", name), 0o755);
  }
  const file = join(root, `module-${crypto.randomUUID()}.safe`);
  await Deno.writeFile(file, await packageModuleDir(tree));
  return file;
}

export function mirrorVipSafe(root: string, vip: string, port: number): Promise<string> {
  return pack(
    root,
    `<safe><service mode="mirror" failover="on">
  <heart pulse="200ms" timeout="1s"><heartbeat name="default"/></heart>
  <vip><interface_list><interface><real_interface>
    <virtual_addr addr="${vip}" where="one_side_alias"/>
  </real_interface></interface></interface_list></vip>
  <user nicestoptimeout="5s" forcestoptimeout="5s"/>
</service></safe>`,
    { start_prim: startScript(vip, port), stop_prim: stopScript },
  );
}

export function farmVipSafe(root: string, vip: string, port: number): Promise<string> {
  return pack(
    root,
    `<safe><service mode="farm">
  <farm><lan name="default"/></farm>
  <vip><interface_list><interface><virtual_interface type="vmac_directed">
    <virtual_addr addr="${vip}" where="alias"/>
  </virtual_interface></interface></interface_list>
  <loadbalancing_list><group name="G"><rule port="${port}" proto="tcp" filter="on_port"/></group></loadbalancing_list>
  </vip>
  <user nicestoptimeout="5s" forcestoptimeout="5s"/>
</service></safe>`,
    { start_both: startScript(vip, port), stop_both: stopScript },
  );
}
