// Tests that need root (nftables, network namespaces, /dev/fuse) skip on an unprivileged machine with a
// reason a reader can check, but never in CI (CI=true runs as root: there they must run).

export function isRoot(): boolean {
  return Deno.uid?.() === 0;
}

export function isCharDevice(path: string): boolean {
  try {
    return Deno.statSync(path).isCharDevice === true;
  } catch {
    return false;
  }
}

export function hasCommand(cmd: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null", stderr: "null" })
      .outputSync()
      .success;
  } catch {
    return false;
  }
}

/** Returns the reason to skip, or null to run. Throws in CI, where nothing may be skipped. */
export function skipUnless(
  needs: { root?: boolean; commands?: string[]; devices?: string[] },
): string | null {
  const missing: string[] = [];
  if (needs.root && !isRoot()) missing.push(`root (uid is ${Deno.uid?.()})`);
  for (const d of needs.devices ?? []) if (!isCharDevice(d)) missing.push(d);
  for (const c of needs.commands ?? []) if (!hasCommand(c)) missing.push(`the '${c}' command`);
  if (missing.length === 0) return null;
  const reason = `needs ${missing.join(" and ")}`;
  if (Deno.env.get("CI") === "true") throw new Error(`CI must run this test, but it ${reason}`);
  console.log(`skipped: ${reason}`);
  return reason;
}
