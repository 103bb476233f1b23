// <check> checkers (spec §4.11). Each checker yields a resource <tag>.<ident>.

import type { ElementReader } from "./element_reader.ts";
import type { Checker, CheckerAction, CheckerWhen, CheckTarget, ModuleMode } from "./module_types.ts";
import { checkServiceAddress } from "./network_address.ts";

const ACTIONS: readonly CheckerAction[] = ["stop", "stopstart", "restart", "wait", "noaction"];
const WHEN: readonly CheckerWhen[] = ["pre", "prim", "second", "both"];
const CHECKERS = ["tcp", "ping", "intf", "ip", "custom", "module", "splitbrain"];

export function readCheck(check: ElementReader, mode: ModuleMode): Checker[] {
  check.expectShape({
    attributes: [],
    children: mode === "mirror" ? CHECKERS : CHECKERS.filter((c) => c !== "splitbrain"),
  });
  const els = check.el.children;
  const checkers = els.map((el) => readChecker(check.reader(el)));
  checkers.forEach((c, i) => {
    if (checkers.slice(0, i).some((o) => o.resource === c.resource)) {
      throw check.elementError(els[i], `duplicate checker resource '${c.resource}' (set a distinct ident)`);
    }
  });
  const splitbrains = els.filter((el) => el.name === "splitbrain");
  if (splitbrains.length > 1) {
    throw check.elementError(splitbrains[1], "only one <splitbrain> checker is allowed");
  }
  return checkers;
}

function readChecker(c: ElementReader): Checker {
  switch (c.el.name) {
    case "tcp": {
      c.expectShape({ attributes: ["ident", "when", "action"], children: ["to"] });
      const ident = c.requiredString("ident");
      const when = c.requiredOneOf("when", WHEN);
      const to = readTarget(c, { port: "required" });
      return {
        kind: "tcp",
        ident,
        when,
        action: actionFor(c, when, "restart"),
        to: { ...to, port: to.port! },
        resource: `tcp.${ident}`,
      };
    }
    case "ping": {
      c.expectShape({ attributes: ["ident", "when", "action"], children: ["to"] });
      const ident = c.requiredString("ident");
      const when = c.oneOf("when", WHEN, "pre");
      return {
        kind: "ping",
        ident,
        when,
        action: actionFor(c, when, "wait"),
        to: readTarget(c, {}),
        resource: `ping.${ident}`,
      };
    }
    case "intf": {
      c.expectShape({ attributes: ["ident", "when"], children: ["to"] });
      const ident = c.requiredString("ident");
      const to = c.reader(c.exactlyOne("to")).expectShape({ attributes: ["local_addr"] });
      const localAddr = address(to, "local_addr");
      return {
        kind: "intf",
        ident,
        when: c.oneOf("when", ["pre"] as const, "pre"),
        localAddr,
        resource: `intf.${ident}`,
      };
    }
    case "ip": {
      c.expectShape({ attributes: ["ident", "when"], children: ["to"] });
      const ident = c.requiredString("ident");
      const to = readTarget(c, { noTimeout: true });
      return {
        kind: "ip",
        ident,
        when: c.oneOf("when", ["prim", "both"] as const, "prim"),
        to,
        resource: `ip.${ident}`,
      };
    }
    case "custom": {
      c.expectShape({ attributes: ["ident", "when", "exec", "arg", "action"] });
      const ident = c.requiredString("ident");
      const when = c.requiredOneOf("when", WHEN);
      // noaction by default: before 8.2.3 the user wrote the matching <failover> rule himself.
      const action = actionFor(c, when, "noaction");
      return {
        kind: "custom",
        ident,
        when,
        exec: c.requiredString("exec"),
        arg: c.optionalString("arg"),
        action,
        resource: `custom.${ident}`,
      };
    }
    case "module": {
      c.expectShape({ attributes: ["ident", "name"], children: ["to"] });
      const ident = c.optionalString("ident");
      const name = c.requiredString("name");
      const toEl = c.atMostOne("to");
      const target = readTarget(c, { portDefault: 9010, addrDefault: "127.0.0.1", secure: true });
      const secure = toEl === undefined ? false : c.reader(toEl).onOff("secure", false);
      const resource = `module.${ident ?? (toEl === undefined ? name : `${name}_${target.addr}`)}`;
      return { kind: "module", ident, name, to: { ...target, port: target.port!, secure }, resource };
    }
    default: { // splitbrain (readCheck only lets known names through)
      c.expectShape({ attributes: ["ident", "exec", "arg"] });
      const ident = c.requiredString("ident");
      return {
        kind: "splitbrain",
        ident,
        exec: c.requiredString("exec"),
        arg: c.requiredString("arg"),
        resource: `splitbrain.${ident}`,
      };
    }
  }
} // deno-fmt-ignore

// A checker started before prestart runs on every node, including SECOND: only wait/noaction make sense.
function actionFor(c: ElementReader, when: CheckerWhen, fallback: CheckerAction): CheckerAction {
  if (when === "pre" && !c.has("action")) return fallback === "noaction" ? "noaction" : "wait";
  const action = c.oneOf("action", ACTIONS, fallback);
  if (when === "pre" && action !== "wait" && action !== "noaction") {
    throw c.invalidAttribute("action", "wait or noaction with when=\"pre\"");
  }
  return action;
}

type TargetOptions = {
  readonly port?: "required";
  readonly portDefault?: number;
  readonly addrDefault?: string;
  readonly noTimeout?: boolean;
  readonly secure?: boolean;
};

function readTarget(c: ElementReader, opts: TargetOptions): CheckTarget {
  const el = opts.addrDefault === undefined ? c.exactlyOne("to") : c.atMostOne("to");
  if (el === undefined) {
    return { addr: opts.addrDefault!, port: opts.portDefault, intervalMs: 10_000, timeoutMs: 5_000 };
  }
  const to = c.reader(el);
  const attributes = ["addr", "interval"];
  if (opts.port !== undefined || opts.portDefault !== undefined) attributes.push("port");
  if (!opts.noTimeout) attributes.push("timeout");
  if (opts.secure) attributes.push("secure");
  to.expectShape({ attributes });
  const addr = opts.addrDefault !== undefined && !to.has("addr") ? opts.addrDefault : address(to, "addr");
  const port = to.port("port") ?? opts.portDefault;
  if (opts.port === "required" && port === undefined) throw to.error("missing mandatory attribute 'port'");
  return {
    addr,
    port,
    intervalMs: to.timeMs("interval", "s", 10_000),
    timeoutMs: to.timeMs("timeout", "s", 5_000),
  };
}

function address(r: ElementReader, name: string): string {
  const addr = r.requiredString(name);
  const check = checkServiceAddress(addr);
  if (!check.ok) throw r.invalidAttribute(name, check.expected);
  return addr;
}
