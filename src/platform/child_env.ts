// Environment variables that Deno honours and that must never reach the node service or the scripts it
// starts: each opens a debugger, changes V8, redirects a server or logs TLS keys (DESIGN.md, Stack).
export const DANGEROUS_ENV = [
  "NODE_OPTIONS",
  "DENO_V8_FLAGS",
  "DENO_SERVE_ADDRESS",
  "SSLKEYLOGFILE",
] as const;

export function scrubbedEnv(base: Record<string, string> = Deno.env.toObject()): Record<string, string> {
  const out = { ...base };
  for (const k of DANGEROUS_ENV) delete out[k];
  return out;
}

/** Removes the dangerous variables from this process's own environment (inherited by every child). */
export function scrubOwnEnv(): void {
  for (const k of DANGEROUS_ENV) Deno.env.delete(k);
}
