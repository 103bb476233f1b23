// automatic_reboot (spec §2.2, §4.3): which commands reboot the server when maxloop turns a detector's
// stopstart into a reboot. Pure: the node service passes its environment and platform, and runs the
// commands in order until one succeeds.
//
// The default is the platform's orderly reboot: `systemctl reboot` (every service, filesystems unmounted),
// then `/sbin/reboot` where systemd is absent. Never `reboot -f`: the module is already stopped, but other
// services on the server deserve their own clean stop. SAFEKIT_REBOOT_COMMAND replaces the list with one
// command of the administrator's (split on white space, no shell), e.g. a script that also notifies, or a
// test's recorder.

export const REBOOT_COMMAND_VARIABLE = "SAFEKIT_REBOOT_COMMAND";

/** Each entry is argv: a program and its arguments, tried in order. */
export type RebootCommands = readonly (readonly string[])[];

export function rebootCommands(override: string | undefined, os: string): RebootCommands {
  const words = (override ?? "").trim().split(/\s+/).filter((w) => w !== "");
  if (words.length > 0) return [words];
  if (os === "windows") return [["shutdown.exe", "/r", "/t", "0", "/d", "p:2:4"]];
  return [["systemctl", "reboot"], ["/sbin/reboot"]];
}

/** The module log line, before the module is stopped. */
export function rebootLog(identity: string): string {
  return `Reboot of the server by automatic_reboot (stopstart from ${identity})`;
}
