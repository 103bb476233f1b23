// SafeKit-style options: single dash, placed anywhere after the verb (`safekit state -m AM -v`,
// `safekit set -r res -v up -m AM`). Each verb declares which options are flags and which take a value,
// since SafeKit reuses letters (`state -v` is a flag, `set -v up` takes a value). `-name=value` is accepted.
import { CliError } from "./cli_error.ts";

export type VerbSpec = {
  readonly flags?: readonly string[];
  readonly values?: readonly string[];
  /** Positional arguments allowed: [min, max]. */
  readonly positionals?: readonly [number, number];
};

export type VerbArgs = {
  readonly positionals: readonly string[];
  readonly flags: ReadonlySet<string>;
  readonly values: ReadonlyMap<string, string>;
  value(name: string): string | undefined;
  has(name: string): boolean;
};

export function parseVerbArgs(verb: string, args: readonly string[], spec: VerbSpec): VerbArgs {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const positionals: string[] = [];
  const allowedFlags = new Set(spec.flags ?? []);
  const allowedValues = new Set(spec.values ?? []);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.length > 1 && a.startsWith("-") && !/^-\d/.test(a)) {
      const body = a.replace(/^--?/, "");
      const eq = body.indexOf("=");
      const name = eq >= 0 ? body.slice(0, eq) : body;
      if (allowedValues.has(name)) {
        let v: string | undefined;
        if (eq >= 0) v = body.slice(eq + 1);
        else if (i + 1 < args.length) v = args[++i];
        if (v === undefined) throw new CliError(`'${verb}': option -${name} needs a value`);
        if (values.has(name)) throw new CliError(`'${verb}': option -${name} given twice`);
        values.set(name, v);
      } else if (allowedFlags.has(name) && eq < 0) {
        flags.add(name);
      } else {
        const known = [...allowedFlags].map((f) => `-${f}`).concat(
          [...allowedValues].map((v) => `-${v} <value>`),
        );
        throw new CliError(
          `'${verb}': unknown option '${a}'` +
            (known.length ? ` (expected ${known.join(", ")})` : " (it takes none)"),
        );
      }
    } else {
      positionals.push(a);
    }
  }
  const [min, max] = spec.positionals ?? [0, 0];
  if (positionals.length < min || positionals.length > max) {
    const want = min === max ? `${min}` : `${min} to ${max}`;
    throw new CliError(
      `'${verb}': expected ${want} argument${max === 1 ? "" : "s"}, got ${positionals.length}` +
        (positionals.length ? ` (${positionals.join(" ")})` : ""),
    );
  }
  return {
    positionals,
    flags,
    values,
    value: (n) => values.get(n),
    has: (n) => flags.has(n) || values.has(n),
  };
}

/** The module name: `-m AM`, or SAFEMODULE (always set inside module scripts). */
export function moduleArg(verb: string, a: VerbArgs, env = Deno.env): string {
  const m = a.value("m") ?? env.get("SAFEMODULE");
  if (!m) throw new CliError(`'${verb}' needs a module: -m <module name> (or SAFEMODULE in the environment)`);
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(m)) {
    throw new CliError(`invalid module name '${m}' (letters, digits, '_', '-', '.', at most 64 characters)`);
  }
  return m;
}
