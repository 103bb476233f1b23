/// <reference lib="dom" />
// Where a cluster.xml error is: the node's messages start with `file:line:column:` (DESIGN: errors name the
// file, line, element, attribute, rule and value).

export type ErrorPlace = { readonly line: number; readonly column: number; readonly message: string };

export function errorPlace(message: string): ErrorPlace | null {
  const m = /^(?:Error: )?[^\n]*?:(\d+):(\d+):\s*([\s\S]*)$/.exec(message);
  if (!m) return null;
  return { line: Number(m[1]), column: Number(m[2]), message: m[3] };
}
