// The one error type of configuration parsing: it says where (file, line, column, element,
// attribute), what was expected and what was found, so a user can fix the file without guessing.

export type ConfigErrorFields = {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly element: string;
  readonly attribute?: string;
  readonly expected?: string;
  readonly found?: string;
  /** What is wrong, without the location prefix; built from expected/found when absent. */
  readonly detail?: string;
};

export class ConfigError extends Error {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly element: string;
  readonly attribute?: string;
  readonly expected?: string;
  readonly found?: string;

  constructor(fields: ConfigErrorFields) {
    super(formatConfigError(fields));
    this.name = "ConfigError";
    this.file = fields.file;
    this.line = fields.line;
    this.column = fields.column;
    this.element = fields.element;
    this.attribute = fields.attribute;
    this.expected = fields.expected;
    this.found = fields.found;
  }
}

export function formatConfigError(f: ConfigErrorFields): string {
  const where = `${f.file}:${f.line}:${f.column}`;
  const subject = f.element === ""
    ? ""
    : ` <${f.element}>${f.attribute ? ` attribute '${f.attribute}'` : ""}:`;
  const detail = f.detail ?? defaultDetail(f);
  return `Error: ${where}:${subject} ${detail}`;
}

function defaultDetail(f: ConfigErrorFields): string {
  const found = f.found === undefined ? "invalid value" : `invalid value '${f.found}'`;
  return f.expected === undefined ? found : `${found} (expected ${f.expected})`;
}
