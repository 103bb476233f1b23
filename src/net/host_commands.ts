// The only way the network drivers touch the system: run a command (ip, nft, ss) and read its output.
// `netns` runs it inside a named network namespace (`ip netns exec`), which is how the tests drive one
// node of a lab; the daemon runs in its own namespace and leaves it unset.

export type CommandResult = { readonly code: number; readonly stdout: string; readonly stderr: string };

export interface HostCommands {
  readonly netns?: string;
  run(cmd: string, args: readonly string[], stdin?: string): Promise<CommandResult>;
}

export class NetCommandError extends Error {
  constructor(readonly cmd: string, readonly args: readonly string[], readonly result: CommandResult) {
    super(
      `'${cmd} ${args.join(" ")}' failed (exit ${result.code}): ${
        result.stderr.trim() || result.stdout.trim()
      }`,
    );
  }
}

export function systemCommands(netns?: string): HostCommands {
  return {
    netns,
    async run(cmd, args, stdin) {
      const [c, a] = netns ? ["ip", ["netns", "exec", netns, cmd, ...args]] : [cmd, [...args]];
      const child = new Deno.Command(c, {
        args: a,
        stdin: stdin === undefined ? "null" : "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      if (stdin !== undefined) {
        const w = child.stdin.getWriter();
        await w.write(new TextEncoder().encode(stdin));
        await w.close();
      }
      const out = await child.output();
      const dec = new TextDecoder();
      return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
    },
  };
}

/** Runs and throws NetCommandError on a non-zero exit. */
export async function runChecked(
  host: HostCommands,
  cmd: string,
  args: readonly string[],
  stdin?: string,
): Promise<string> {
  const r = await host.run(cmd, args, stdin);
  if (r.code !== 0) throw new NetCommandError(cmd, args, r);
  return r.stdout;
}
