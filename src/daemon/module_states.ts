// The state vocabulary of spec §2.1, shared by the node service, the CLI and the probe.
export type LocalState = "STOP" | "WAIT" | "ALONE" | "PRIM" | "SECOND" | "UP";
export type Qualifier = "NotReady" | "Transient" | "Ready";
export type ModuleStateView = {
  readonly local: LocalState;
  readonly qualifier: Qualifier;
  readonly remote?: string; // e.g. "SECOND Ready", "UNKNOWN Unknown"
};

/** `safekit state -m AM -lq` exit codes (spec §2.1). */
export const STATE_EXIT_CODE: Record<LocalState, number> = {
  STOP: 0,
  WAIT: 1,
  ALONE: 2,
  UP: 2,
  PRIM: 3,
  SECOND: 4,
};

/** The health probe answers 200 only in these states (spec §9.6). */
export function isProbeReady(mode: string, s: ModuleStateView): boolean {
  if (s.qualifier !== "Ready") return false;
  if (mode === "mirror") return s.local === "PRIM" || s.local === "ALONE";
  return s.local === "UP";
}

export const STOPPED: ModuleStateView = { local: "STOP", qualifier: "NotReady" };
