// <macro name value/> and %NAME% references (spec §4.2, UG §13.2).
//
// Choices (documented in docs/configuration.md):
// - Expansion applies to attribute values, text and CDATA (failover rules) of every element after
//   the <macro>s, on the parsed tree, so error positions still point into the file as written.
// - %identifier% is a macro if one is defined, else an environment variable, else left as is
//   (with a warning): Windows paths and scripts legitimately carry %SAFE%-style references that
//   are resolved later, so an error would refuse valid modules.
// - A macro value may use environment variables and earlier macros; a macro may not be defined twice.

import { ConfigError } from "./config_error.ts";
import type { Macro } from "./module_types.ts";
import type { XmlElement } from "./xml_tree.ts";

const REFERENCE = /%([A-Za-z_][A-Za-z0-9_]*)%/g;
export const MACRO_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export type Expander = (text: string) => string;

export function makeExpander(
  macros: readonly Macro[],
  env: Readonly<Record<string, string>>,
  unresolved: Set<string>,
): Expander {
  return (text) =>
    text.replace(REFERENCE, (whole, name: string) => {
      const macro = macros.find((m) => m.name === name);
      if (macro !== undefined) return macro.value;
      if (Object.hasOwn(env, name)) return env[name];
      unresolved.add(name);
      return whole;
    });
}

export function readMacros(
  file: string,
  elements: readonly XmlElement[],
  env: Readonly<Record<string, string>>,
  unresolved: Set<string>,
): Macro[] {
  const macros: Macro[] = [];
  for (const el of elements) {
    const at = { file, line: el.line, column: el.column, element: "macro" };
    for (const a of el.attributes) {
      if (a.name !== "name" && a.name !== "value") {
        throw new ConfigError({
          ...at,
          line: a.line,
          column: a.column,
          attribute: a.name,
          detail: "unknown attribute (allowed: name, value)",
        });
      }
    }
    if (el.children.length > 0 || el.text.trim() !== "") {
      throw new ConfigError({ ...at, detail: "<macro> must be empty" });
    }
    const nameAttr = el.attributes.find((a) => a.name === "name");
    const valueAttr = el.attributes.find((a) => a.name === "value");
    if (nameAttr === undefined) {
      throw new ConfigError({ ...at, detail: "missing mandatory attribute 'name'" });
    }
    if (valueAttr === undefined) {
      throw new ConfigError({ ...at, detail: "missing mandatory attribute 'value'" });
    }
    const where = { ...at, line: nameAttr.line, column: nameAttr.column, attribute: "name" };
    if (!MACRO_NAME.test(nameAttr.value)) {
      throw new ConfigError({
        ...where,
        found: nameAttr.value,
        expected: "a name made of letters, digits and '_'",
      });
    }
    if (macros.some((m) => m.name === nameAttr.value)) {
      throw new ConfigError({ ...where, detail: `macro '${nameAttr.value}' is already defined` });
    }
    macros.push({ name: nameAttr.value, value: makeExpander(macros, env, unresolved)(valueAttr.value) });
  }
  return macros;
}

export function expandTree(el: XmlElement, expand: Expander): XmlElement {
  return {
    ...el,
    attributes: el.attributes.map((a) => ({ ...a, value: expand(a.value) })),
    children: el.children.map((c) => expandTree(c, expand)),
    cdata: el.cdata.map((c) => ({ ...c, text: expand(c.text) })),
    text: expand(el.text),
  };
}
