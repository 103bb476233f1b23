// Prometheus text exposition (format 0.0.4): families with HELP and TYPE, stable label sets, values as
// numbers. States are values, not labels (DESIGN principle 7), so a state change never creates a series.

export type Sample = { readonly labels?: Readonly<Record<string, string>>; readonly value: number };
export type Family = {
  readonly name: string;
  readonly help: string;
  readonly type: "gauge" | "counter";
  readonly samples: readonly Sample[];
};

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

export function renderPrometheus(families: readonly Family[]): string {
  const out: string[] = [];
  for (const f of families) {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(f.name)) throw new Error(`invalid metric name '${f.name}'`);
    out.push(`# HELP ${f.name} ${f.help.replace(/\n/g, " ")}`);
    out.push(`# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels ?? {});
      const l = labels.length ? `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}` : "";
      out.push(`${f.name}${l} ${formatValue(s.value)}`);
    }
  }
  return out.join("\n") + "\n";
}
