// <errd> process and service monitoring (spec §4.10).

import type { ElementReader } from "./element_reader.ts";
import type { ErrdConfig, ErrdProc, ProcAction } from "./module_types.ts";

const BUILTIN_ACTIONS = ["stopstart", "restart", "stop", "noaction"] as const;

export function readErrd(errd: ElementReader): ErrdConfig {
  errd.expectShape({ attributes: ["polltimer"], children: ["proc"] });
  const procEls = errd.children("proc");
  const procs = procEls.map((el) => readProc(errd.reader(el)));
  procs.forEach((p, i) => {
    if (procs.slice(0, i).some((o) => o.resource === p.resource && o.class === p.class)) {
      throw errd.elementError(procEls[i], `process '${p.name}' is already monitored in class '${p.class}'`);
    }
  });
  return { pollTimerMs: errd.timeMs("polltimer", "s", 30_000), procs };
}

function readProc(proc: ElementReader): ErrdProc {
  proc.expectShape({
    attributes: [
      "name",
      "service",
      "nameregex",
      "argregex",
      "atleast",
      "atmax",
      "action",
      "restart_services",
      "class",
      "start_after",
    ],
  }); // deno-fmt-ignore
  const name = proc.requiredString("name");
  const actionText = proc.string("action", "stopstart").trim();
  if (actionText === "") {
    throw proc.invalidAttribute("action", "stopstart, restart, stop, noaction or a handler");
  }
  const action: ProcAction = (BUILTIN_ACTIONS as readonly string[]).includes(actionText)
    ? { kind: actionText as (typeof BUILTIN_ACTIONS)[number] }
    : { kind: "handler", exe: actionText };
  for (const re of ["nameregex", "argregex"]) {
    const text = proc.optionalString(re);
    if (text !== undefined) {
      try {
        new RegExp(text);
      } catch {
        throw proc.invalidAttribute(re, "a POSIX extended regular expression");
      }
    }
  }
  const atLeast = proc.integer("atleast", 1, -1);
  const atMax = proc.integer("atmax", -1, -1);
  if (atLeast >= 0 && atMax >= 0 && atMax < atLeast) {
    throw proc.invalidAttribute("atmax", `-1 or a count >= atleast (${atLeast})`);
  }
  return {
    name,
    service: proc.yesNo("service", false),
    nameRegex: proc.optionalString("nameregex"),
    argRegex: proc.optionalString("argregex"),
    atLeast,
    atMax,
    action,
    restartServices: (proc.optionalString("restart_services") ?? "").split(",").map((s) => s.trim()).filter((
      s,
    ) => s !== ""),
    // The UG shows class without brackets (mandatory) and documents no default.
    class: proc.requiredString("class"),
    startAfter: proc.optionalInteger("start_after", 1),
    resource: `proc.${name}`,
  };
}
