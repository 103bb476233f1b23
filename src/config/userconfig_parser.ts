// userconfig.xml -> ModuleConfig (spec §4.2–4.12): <safe> root, optional <macro>s, then exactly
// one <service>, whose children depend on the module mode.

import { ConfigError } from "./config_error.ts";
import { deepFreeze } from "./deep_freeze.ts";
import { ElementReader, type ReadContext } from "./element_reader.ts";
import { readErrd } from "./errd_parser.ts";
import { readFailover } from "./failover_parser.ts";
import { readFarm } from "./farm_parser.ts";
import { readHeart } from "./heart_parser.ts";
import { expandTree, makeExpander, readMacros } from "./macro_expansion.ts";
import type { DefaultPrim, ModuleConfig, ModuleMode } from "./module_types.ts";
import { readRfs } from "./rfs_parser.ts";
import { readCheck } from "./check_parser.ts";
import { readUser, readVhost } from "./user_parser.ts";
import { readVip } from "./vip_parser.ts";
import { parseXmlTree } from "./xml_tree.ts";

export const SERVICE_CHILDREN: Readonly<Record<ModuleMode, readonly string[]>> = {
  mirror: ["heart", "rfs", "vip", "user", "vhost", "errd", "check", "failover"],
  farm: ["farm", "vip", "user", "vhost", "errd", "check", "failover"],
  light: ["user", "vhost", "errd", "check", "failover"],
};

const SERVICE_ATTRIBUTES = [
  "mode",
  "boot",
  "boot_delay",
  "failover",
  "defaultprim",
  "maxloop",
  "loop_interval",
  "automatic_reboot",
];
const MIRROR_ONLY_ATTRIBUTES = ["failover", "defaultprim"];

export function parseUserConfig(
  text: string,
  file = "userconfig.xml",
  env: Readonly<Record<string, string>> = {},
): ModuleConfig {
  const ctx: ReadContext = { file, warnings: [] };
  const raw = parseXmlTree(text, file);
  const safe = new ElementReader(ctx, raw);
  if (raw.name !== "safe") throw safe.error("root element must be <safe>");
  safe.expectShape({ attributes: [], children: ["macro", "service"] });
  const serviceIndex = raw.children.findIndex((c) => c.name === "service");
  const misplacedMacro = raw.children.findIndex((c, i) =>
    c.name === "macro" && serviceIndex >= 0 && i > serviceIndex
  );
  if (misplacedMacro >= 0) {
    throw safe.elementError(raw.children[misplacedMacro], "<macro> elements must come before <service>");
  }
  const unresolved = new Set<string>();
  const macros = readMacros(file, safe.children("macro"), env, unresolved);
  const serviceEl = expandTree(safe.exactlyOne("service"), makeExpander(macros, env, unresolved));
  const service = new ElementReader(ctx, serviceEl);
  const mode = service.requiredOneOf("mode", ["mirror", "farm", "light"] as const);
  checkServiceShape(service, mode);

  const child = (name: string) => {
    const el = service.atMostOne(name);
    return el === undefined ? undefined : service.reader(el);
  };
  const heartEl = child("heart");
  const farmEl = child("farm");
  const vipEl = child("vip");
  const rfsEl = child("rfs");
  const userEl = child("user");
  const vhostEl = child("vhost");
  const errdEl = child("errd");
  const checkEl = child("check");
  const failoverEl = child("failover");
  if (mode === "mirror" && heartEl === undefined) {
    throw service.error("a mirror module needs a <heart> element");
  }
  if (mode === "farm" && farmEl === undefined) throw service.error("a farm module needs a <farm> element");

  const heart = heartEl && readHeart(heartEl);
  const rfs = rfsEl && readRfs(rfsEl);
  const flow = heart?.heartbeats.find((h) => h.ident === "flow");
  if (flow !== undefined && rfs === undefined) {
    throw new ConfigError({
      file,
      ...flow.at,
      element: "heartbeat",
      attribute: "ident",
      detail: `ident="flow" names the replication network but there is no <rfs> element ` +
        `(the module would stay in WAIT): add <rfs> or remove ident="flow"`,
    });
  }
  const errd = errdEl && readErrd(errdEl);
  if (errdEl !== undefined && userEl === undefined) {
    throw service.elementError(errdEl.el, "<errd> requires a <user> element (without it no script runs)");
  }
  if (unresolved.size > 0) {
    ctx.warnings.push(
      `${file}: %${[...unresolved].join("%, %")}% is neither a macro nor an environment variable; left as is`,
    );
  }
  return deepFreeze({
    file,
    mode,
    boot: service.oneOf("boot", ["on", "off", "auto", "ignore"], "ignore"),
    bootDelayMs: service.timeMs("boot_delay", "s", 0),
    failover: service.onOff("failover", true),
    defaultPrim: readDefaultPrim(service),
    maxLoop: service.integer("maxloop", 3, 0),
    loopIntervalMs: service.timeMs("loop_interval", "h", 24 * 3_600_000),
    automaticReboot: service.onOff("automatic_reboot", false),
    macros,
    heart,
    farm: farmEl && readFarm(farmEl),
    vip: vipEl && readVip(vipEl, mode),
    rfs,
    user: userEl && readUser(userEl),
    vhost: vhostEl && readVhost(vhostEl),
    errd,
    check: checkEl && readCheck(checkEl, mode),
    failoverRules: failoverEl && readFailover(failoverEl),
    warnings: ctx.warnings,
  });
}

function checkServiceShape(service: ElementReader, mode: ModuleMode): void {
  const allowed = SERVICE_CHILDREN[mode];
  for (const c of service.el.children) {
    if (!allowed.includes(c.name)) {
      const other = (["mirror", "farm", "light"] as const).filter((m) =>
        SERVICE_CHILDREN[m].includes(c.name)
      );
      const why = other.length > 0
        ? `not allowed in a ${mode} module (only in ${other.join(", ")})`
        : "unknown element";
      throw service.elementError(
        c,
        `${why} (allowed in ${mode}: ${allowed.map((n) => `<${n}>`).join(", ")})`,
      );
    }
  }
  if (mode !== "mirror") {
    for (const name of MIRROR_ONLY_ATTRIBUTES) {
      const a = service.attribute(name);
      if (a !== undefined) {
        throw service.attributeError(a, `only allowed in a mirror module (mode is ${mode})`);
      }
    }
  }
  service.expectShape({ attributes: SERVICE_ATTRIBUTES, children: allowed });
}

// defaultprim is "alone", "lastprim" or a node name; the UG §5.8 example literally writes
// "hostname node1", which we read as node1.
function readDefaultPrim(service: ElementReader): DefaultPrim {
  const text = service.optionalString("defaultprim")?.trim();
  if (text === undefined || text === "alone") return { kind: "alone" };
  if (text === "lastprim") return { kind: "lastprim" };
  const node = text.replace(/^hostname\s+/, "");
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(node)) {
    throw service.invalidAttribute("defaultprim", "alone, lastprim or a node name");
  }
  const a = service.attribute("defaultprim")!;
  return { kind: "node", node, at: { line: a.line, column: a.column } };
}
