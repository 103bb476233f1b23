// Typed, checked access to one element's attributes and children. Every check that fails throws a
// ConfigError pointing at the attribute (or element) concerned; unknown attributes and children
// are refused with the list of allowed ones, because a silently ignored typo is a config that
// does not do what its author believes.

import { ConfigError } from "./config_error.ts";
import { parseTimeValue, type TimeUnit } from "./time_value.ts";
import type { XmlAttribute, XmlElement } from "./xml_tree.ts";

export type ReadContext = { readonly file: string; readonly warnings: string[] };

export type ElementShape = {
  readonly attributes: readonly string[];
  readonly children?: readonly string[];
  /** Legacy attributes accepted and ignored, with a warning. */
  readonly ignoredAttributes?: readonly string[];
};

export class ElementReader {
  constructor(readonly ctx: ReadContext, readonly el: XmlElement) {}

  /** Checks attribute and child names against the shape, and refuses stray text. */
  expectShape(shape: ElementShape): this {
    for (const a of this.el.attributes) {
      if (shape.ignoredAttributes?.includes(a.name)) {
        this.ctx.warnings.push(
          `${this.ctx.file}:${a.line}:${a.column}: <${this.el.name}> attribute '${a.name}' is obsolete and ignored`,
        );
      } else if (!shape.attributes.includes(a.name)) {
        throw this.attributeError(a, `unknown attribute (allowed: ${listOrNone(shape.attributes)})`);
      }
    }
    for (const c of this.el.children) {
      if (!(shape.children ?? []).includes(c.name)) {
        throw this.elementError(
          c,
          `unknown element inside <${this.el.name}> (allowed: ${listOrNone(shape.children ?? [], "<", ">")})`,
        );
      }
    }
    if (this.el.text.trim() !== "") {
      throw this.error(`unexpected text '${this.el.text.trim().slice(0, 40)}' (expected only elements)`);
    }
    if (this.el.cdata.length > 0) throw this.error("unexpected CDATA section");
    return this;
  }

  attribute(name: string): XmlAttribute | undefined {
    return this.el.attributes.find((a) => a.name === name);
  }

  has(name: string): boolean {
    return this.attribute(name) !== undefined;
  }

  optionalString(name: string): string | undefined {
    return this.attribute(name)?.value;
  }

  requiredString(name: string): string {
    const a = this.attribute(name);
    if (a === undefined) throw this.error(`missing mandatory attribute '${name}'`);
    if (a.value.trim() === "") throw this.invalid(a, "a non-empty value");
    return a.value;
  }

  string(name: string, fallback: string): string {
    return this.attribute(name)?.value ?? fallback;
  }

  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T;
  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined;
  oneOf<T extends string>(name: string, values: readonly T[], fallback?: T): T | undefined {
    const a = this.attribute(name);
    if (a === undefined) return fallback;
    if (!(values as readonly string[]).includes(a.value)) throw this.invalid(a, values.join(" or "));
    return a.value as T;
  }

  requiredOneOf<T extends string>(name: string, values: readonly T[]): T {
    if (!this.has(name)) {
      throw this.error(`missing mandatory attribute '${name}' (expected ${values.join(" or ")})`);
    }
    return this.oneOf(name, values)!;
  }

  onOff(name: string, fallback: boolean): boolean {
    return this.oneOf(name, ["on", "off"], fallback ? "on" : "off") === "on";
  }

  yesNo(name: string, fallback: boolean): boolean {
    return this.oneOf(name, ["yes", "no"], fallback ? "yes" : "no") === "yes";
  }

  integer(name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    return this.optionalInteger(name, min, max) ?? fallback;
  }

  optionalInteger(name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const a = this.attribute(name);
    if (a === undefined) return undefined;
    const text = a.value.trim();
    const n = /^-?\d{1,16}$/.test(text)
      ? Number(text)
      : /^0x[0-9a-f]{1,12}$/i.test(text)
      ? Number(text)
      : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER
        ? `an integer >= ${min}`
        : `an integer from ${min} to ${max}`;
      throw this.invalid(a, range);
    }
    return n;
  }

  port(name: string): number | undefined {
    return this.optionalInteger(name, 1, 65535);
  }

  /** A time attribute in milliseconds; see time_value.ts for the unit rule. */
  timeMs(name: string, unit: TimeUnit, fallbackMs: number): number {
    const a = this.attribute(name);
    if (a === undefined) return fallbackMs;
    const r = parseTimeValue(a.value, unit);
    if (r.ok) return r.ms;
    if (r.reason === "unit") {
      throw new ConfigError({
        ...this.where(a),
        expected: `time unit: '${unit}'`,
        found: a.value,
        detail: `invalid value '${a.value}' for the attribute ${a.name} (expected time unit: '${unit}')`,
      });
    }
    return this.throwInvalid(a, "a time like 30s or 30000ms");
  }

  children(name: string): readonly XmlElement[] {
    return this.el.children.filter((c) => c.name === name);
  }

  atMostOne(name: string): XmlElement | undefined {
    const found = this.children(name);
    if (found.length > 1) {
      throw this.elementError(found[1], `only one <${name}> is allowed inside <${this.el.name}>`);
    }
    return found[0];
  }

  exactlyOne(name: string): XmlElement {
    const found = this.atMostOne(name);
    if (found === undefined) throw this.error(`missing mandatory element <${name}>`);
    return found;
  }

  atLeastOne(name: string): readonly XmlElement[] {
    const found = this.children(name);
    if (found.length === 0) throw this.error(`expected at least one <${name}> element`);
    return found;
  }

  reader(child: XmlElement): ElementReader {
    return new ElementReader(this.ctx, child);
  }

  where(a?: XmlAttribute) {
    const at = a ?? this.el;
    return {
      file: this.ctx.file,
      line: at.line,
      column: at.column,
      element: this.el.name,
      attribute: a?.name,
    };
  }

  error(detail: string): ConfigError {
    return new ConfigError({ ...this.where(), detail });
  }

  attributeError(a: XmlAttribute, detail: string): ConfigError {
    return new ConfigError({ ...this.where(a), detail });
  }

  elementError(child: XmlElement, detail: string): ConfigError {
    return new ConfigError({
      file: this.ctx.file,
      line: child.line,
      column: child.column,
      element: child.name,
      detail,
    });
  }

  invalid(a: XmlAttribute, expected: string): ConfigError {
    return new ConfigError({ ...this.where(a), expected, found: a.value });
  }

  /** For attribute errors on a named attribute, or the element when it is absent. */
  invalidAttribute(name: string, expected: string): ConfigError {
    const a = this.attribute(name);
    return a === undefined ? this.error(`missing mandatory attribute '${name}'`) : this.invalid(a, expected);
  }

  private throwInvalid(a: XmlAttribute, expected: string): never {
    throw this.invalid(a, expected);
  }
}

function listOrNone(names: readonly string[], open = "", close = ""): string {
  return names.length === 0 ? "none" : names.map((n) => `${open}${n}${close}`).join(", ");
}
