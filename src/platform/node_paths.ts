// Where a node keeps everything it owns (spec §1.3). One node = one SAFE root + one SAFEVAR root,
// so several nodes can run side by side on one host (tests, the demo) exactly as on real servers.
import { join } from "node:path";

export type NodePaths = {
  readonly safe: string;
  readonly safevar: string;
  /** SAFE/private/bin: special commands (`safekit -r`). */
  readonly safebin: string;
  /** SAFE/private/conf. */
  readonly safeconf: string;
  /** SAFE/modules: editable module trees, SAFE/modules/AM. */
  readonly modules: string;
  /** SAFE/modules/lastconfig: the last 3 applied configurations of each module, as .safe files. */
  readonly lastconfig: string;
  /** SAFE/private/modules: active configurations (do not edit). */
  readonly privateModules: string;
  /** SAFE/Application_Modules: installable .safe templates (generic, demo, published, other, backup). */
  readonly applicationModules: string;
  /** SAFEVAR/cluster: cluster.xml, the cluster key. */
  readonly clusterDir: string;
  readonly clusterXml: string;
  readonly clusterKey: string;
  /** SAFEVAR/log.db: the command log. */
  readonly commandLogDb: string;
  /** SAFEVAR/resource.db: installed modules and their history. */
  readonly nodeResourceDb: string;
  /** SAFEVAR/run/safeadmin.sock: how the local CLI reaches its node service. */
  readonly controlSocket: string;
  /** SAFEVAR/run/safeadmin.pid */
  readonly pidFile: string;
  /** SAFEVAR/modules/AM = SAFEUSERVAR. */
  moduleVar(module: string): string;
  /** SAFE/modules/AM */
  moduleDir(module: string): string;
  /** SAFE/private/modules/AM */
  privateModuleDir(module: string): string;
};

const isWindows = Deno.build.os === "windows";

export function defaultSafe(): string {
  return isWindows ? `${Deno.env.get("SYSTEMDRIVE") ?? "C:"}\\safekit` : "/opt/safekit";
}

export function defaultSafevar(safe: string): string {
  return isWindows ? join(safe, "var") : "/var/safekit";
}

/** Reads SAFE and SAFEVAR from the environment, with the platform defaults. */
export function nodePathsFromEnv(env: { get(name: string): string | undefined } = Deno.env): NodePaths {
  const safe = env.get("SAFE") || defaultSafe();
  const safevar = env.get("SAFEVAR") || defaultSafevar(safe);
  return nodePaths(safe, safevar);
}

export function nodePaths(safe: string, safevar: string): NodePaths {
  return {
    safe,
    safevar,
    safebin: join(safe, "private", "bin"),
    safeconf: join(safe, "private", "conf"),
    modules: join(safe, "modules"),
    lastconfig: join(safe, "modules", "lastconfig"),
    privateModules: join(safe, "private", "modules"),
    applicationModules: join(safe, "Application_Modules"),
    clusterDir: join(safevar, "cluster"),
    clusterXml: join(safevar, "cluster", "cluster.xml"),
    clusterKey: join(safevar, "cluster", "cluster.key"),
    commandLogDb: join(safevar, "log.db"),
    nodeResourceDb: join(safevar, "resource.db"),
    controlSocket: join(safevar, "run", "safeadmin.sock"),
    pidFile: join(safevar, "run", "safeadmin.pid"),
    moduleVar: (m) => join(safevar, "modules", m),
    moduleDir: (m) => join(safe, "modules", m),
    privateModuleDir: (m) => join(safe, "private", "modules", m),
  };
}
