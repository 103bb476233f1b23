// The raw line shape shared by the module log and the command log: `| a | b | c | last`. An empty field
// prints as a single space between bars (`| | | 7017 | END | 0` in spec §10.3), and the last field
// is not closed by a bar.

export function formatRawLine(fields: readonly string[]): string {
  const head = fields.slice(0, -1).map((f) => (f === "" ? " " : ` ${f} `)).join("|");
  return `|${head}| ${fields.at(-1) ?? ""}`;
}
