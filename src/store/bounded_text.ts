// Checks on free text put in a store. Fields shown between '|' in the raw line formats must not
// contain '|' or line breaks, or a reader of `safekit log` / `cmdlog` would split the line wrongly.
import { invalidInput } from "./store_error.ts";

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export function requireText(value: unknown, what: string, maxLength: number): string {
  if (typeof value !== "string") throw invalidInput(`${what}: expected a string, found ${typeof value}`);
  if (value.length > maxLength) {
    throw invalidInput(`${what}: too long (${value.length} characters, at most ${maxLength})`);
  }
  return value;
}

/** A short field of a raw log line: no control characters and no '|'. May be empty. */
export function requireField(value: unknown, what: string, maxLength: number): string {
  const text = requireText(value, what, maxLength);
  // deno-lint-ignore no-control-regex
  const bad = text.search(/[|\u0000-\u001f\u007f]/);
  if (bad >= 0) {
    throw invalidInput(
      `${what}: character ${JSON.stringify(text[bad])} at position ${bad + 1} is not allowed in '${text}' ` +
        `(no '|' and no control characters)`,
    );
  }
  return text;
}

/** A single-line value (resource values): no control characters. */
export function requireSingleLine(value: unknown, what: string, maxLength: number): string {
  const text = requireText(value, what, maxLength);
  if (CONTROL.test(text)) {
    throw invalidInput(
      `${what}: control characters (line breaks, tabs...) are not allowed in ${JSON.stringify(text)}`,
    );
  }
  return text;
}

export function requireLimit(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw invalidInput(`${what}: expected an integer >= 0, found ${String(value)}`);
  }
  return value;
}
