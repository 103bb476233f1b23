// <failover> (spec §5): only its attributes and the raw rule text with its position. The rule
// language itself is parsed by the failover rule engine, which reports errors at text line + offset.

import type { ElementReader } from "./element_reader.ts";
import type { FailoverConfig } from "./module_types.ts";

export function readFailover(failover: ElementReader): FailoverConfig {
  const el = failover.el;
  for (const a of el.attributes) {
    if (!["extends", "period", "handle_time"].includes(a.name)) {
      throw failover.attributeError(a, "unknown attribute (allowed: extends, period, handle_time)");
    }
  }
  if (el.children.length > 0) {
    throw failover.elementError(
      el.children[0],
      "unexpected element inside <failover> (expected rules in <![CDATA[ ]]>)",
    );
  }
  if (el.text.trim() !== "") {
    throw failover.error("rules must be written inside <![CDATA[ ... ]]>");
  }
  const periodMs = failover.timeMs("period", "ms", 5000);
  const handleTimeMs = failover.timeMs("handle_time", "ms", 15000);
  if (periodMs === 0) throw failover.invalidAttribute("period", "a period greater than 0");
  if (handleTimeMs % periodMs !== 0) {
    throw failover.invalidAttribute("handle_time", `a multiple of period (${periodMs} ms)`);
  }
  const sections = el.cdata.map((c) => ({
    text: c.text,
    line: c.line,
    column: c.column,
    language: /^\s*--\s*Lua Rules/i.test(c.text) ? "lua" as const : "safekit" as const,
  }));
  const languages = sections.map((s) => s.language);
  if (new Set(languages).size !== languages.length) {
    throw failover.error("only one CDATA section per rule language (SafeKit rules, Lua rules)");
  }
  return { extends: failover.yesNo("extends", true), periodMs, handleTimeMs, sections };
}
