// Module-log texts of the farm automaton: verbatim from spec §10.2 where documented; the few marked
// "ours" are not in the catalogue.

import type { FarmLocalState, FarmQualifier } from "./farm_types.ts";

export const farmMsg = {
  action: (verb: string, by: string) => `Action ${verb} called by ${by}`,
  actionFromRule: (verb: string, rule: string) => `Action ${verb} from failover rule ${rule}`,
  startAutomatically: "Action start called automatically",
  startAtBoot: "Action start called at boot time",
  wakeup: "Action wakeup from failover rule Implicit_wakeup",
  transitionWait: (rule: string) => `Transition WAIT_TR from failover rule ${rule}`,
  localState: (s: FarmLocalState, q: FarmQualifier) => `Local state ${s} ${q}`,
  script: (name: string) => `Script ${name}`,
  membership: (members: readonly string[], resource: string) =>
    `farm membership: ${members.join(" ")} (group ${resource})`,
  load: (n: number, resource: string) => `farm load: ${n}/256 (group ${resource})`,
  // ours: not in the catalogue
  scriptFailed: (name: string, code: number) => `Script ${name} failed with exit code ${code}`,
  scriptTimedOut: (name: string) => `Script ${name} timed out`,
} as const;
