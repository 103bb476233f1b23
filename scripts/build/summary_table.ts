// The table scripts/build.ts prints at the end: one row per target.

export type TargetResult =
  | { readonly target: string; readonly result: "compiled"; readonly detail: string }
  | { readonly target: string; readonly result: "fallback"; readonly detail: string }
  | { readonly target: string; readonly result: "failed"; readonly detail: string }
  | { readonly target: string; readonly result: "skipped"; readonly detail: string };

export function formatSummary(rows: readonly TargetResult[]): string {
  const head = { target: "target", result: "result", detail: "detail" };
  const all = [head, ...rows];
  const w1 = Math.max(...all.map((r) => r.target.length));
  const w2 = Math.max(...all.map((r) => r.result.length));
  return all.map((r) => `${r.target.padEnd(w1)}  ${r.result.padEnd(w2)}  ${r.detail}`.trimEnd()).join("\n");
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
