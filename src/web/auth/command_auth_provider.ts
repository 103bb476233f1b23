// An identity provider that runs the administrator's own program: the way PAM, LDAP/Active Directory,
// RADIUS or a company SSO helper get plugged in without this program linking any of them. The program gets
// the user name and password on its standard input (never in its arguments or environment, which other
// local users can read), answers with its exit status, and prints the user's groups or roles.
//
//   stdin:  <user>\n<password>\n
//   exit 0: authenticated; stdout lines group=<name> | role=<Admin|Control|Monitor> | user=<canonical name>
//   exit 1: wrong user name or password
//   other exit, killed, or silent past the timeout: the directory is unavailable (the login answers 503)
import type { AuthProvider, CredentialVerdict } from "./auth_provider.ts";
import { INVALID_CREDENTIALS } from "./auth_provider.ts";
import { type GroupRoleMap, parseDirectoryAnswer, roleFromGroups } from "./group_roles.ts";

export type CommandProviderConfig = {
  /** Absolute path of the program. */
  readonly path: string;
  readonly args?: readonly string[];
  /** Default 10 s: an LDAP bind over a slow WAN, not a hung server. */
  readonly timeoutMs?: number;
  readonly groupRoles?: GroupRoleMap;
};

export const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;
const MAX_OUTPUT_BYTES = 64 * 1024;
/** The only environment the program gets: a fixed PATH, so nothing of the node service's leaks in. */
const CHILD_ENV = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8" };

/** Why a user name cannot be handed to the program (it is one line of its input), or null. */
export function externalUserNameProblem(user: string): string | null {
  if (user.length > 256) return "user name longer than 256 characters";
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(user)) return "user name with a control character";
  return null;
}

export class CommandAuthProvider implements AuthProvider {
  readonly name: string;
  constructor(
    readonly config: CommandProviderConfig,
    private readonly log: (message: string) => void = (m) => console.error(m),
  ) {
    this.name = `command:${config.path}`;
  }

  async verifyPassword(user: string, password: string): Promise<CredentialVerdict> {
    const bad = externalUserNameProblem(user) ?? (password.includes("\n") ? "password with a newline" : null);
    if (bad) return { ok: false, reason: "bad-credentials", message: INVALID_CREDENTIALS };
    const unsafe = await programProblem(this.config.path);
    if (unsafe) return this.#unavailable(unsafe);
    const run = await this.#run(`${user}\n${password}\n`);
    if (run.kind === "failed") return this.#unavailable(run.why);
    if (run.code === 1) return { ok: false, reason: "bad-credentials", message: INVALID_CREDENTIALS };
    if (run.code !== 0) {
      return this.#unavailable(`exited with status ${run.code}${run.stderr ? `: ${run.stderr}` : ""}`);
    }
    let answer;
    try {
      answer = parseDirectoryAnswer(run.stdout);
    } catch (e) {
      return this.#unavailable(`unreadable answer on ${(e as Error).message}`);
    }
    const name = answer.user ?? user;
    const role = roleFromGroups(answer.groups, this.config.groupRoles ?? {}, answer.roles);
    if (!role) {
      this.log(
        `login of '${cut(name)}' refused: in no group mapped to a role (groups: ${answer.groups.join(", ")})`,
      );
      return {
        ok: false,
        reason: "no-role",
        message: `'${cut(name)}' has no SafeKit role: ask an administrator to add you to a group mapped to ` +
          "Admin, Control or Monitor",
      };
    }
    return { ok: true, user: name, role, groups: answer.groups };
  }

  #unavailable(why: string): CredentialVerdict {
    this.log(`authentication program ${this.config.path} ${why}`);
    return {
      ok: false,
      reason: "unavailable",
      message: "the authentication service of this node is unavailable (see the node log)",
    };
  }

  async #run(
    input: string,
  ): Promise<
    { kind: "done"; code: number; stdout: string; stderr: string } | { kind: "failed"; why: string }
  > {
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(this.config.path, {
        args: [...this.config.args ?? []],
        env: CHILD_ENV,
        clearEnv: true,
        cwd: "/",
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (e) {
      return { kind: "failed", why: `could not be started: ${(e as Error).message}` };
    }
    const timeoutMs = this.config.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    let timedOut = false;
    const stop = new AbortController();
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      // A child of the program (a `sleep`, an ldapsearch) may still hold the pipes open: stop reading.
      stop.abort();
    }, timeoutMs);
    try {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(input)).catch(() => {}); // a program may not read it all
      await writer.close().catch(() => {});
      const [stdout, stderr, status] = await Promise.all([
        readCapped(child.stdout, stop.signal),
        readCapped(child.stderr, stop.signal),
        child.status,
      ]);
      if (timedOut) return { kind: "failed", why: `gave no answer within ${timeoutMs} ms (killed)` };
      if (status.signal) return { kind: "failed", why: `was killed by ${status.signal}` };
      if (stdout === null) return { kind: "failed", why: `printed more than ${MAX_OUTPUT_BYTES} bytes` };
      return { kind: "done", code: status.code, stdout, stderr: cut((stderr ?? "").trim()) };
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The program runs with the node service's rights and decides who is Admin: it must be a regular file
 * that only its owner (root, or the account running the node service) can change.
 */
export async function programProblem(path: string): Promise<string | null> {
  if (!path.startsWith("/")) return "is not an absolute path";
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(path);
  } catch (e) {
    return `cannot be read: ${(e as Error).message}`;
  }
  if (!st.isFile) return "is not a regular file";
  if (st.mode !== null && (st.mode & 0o022) !== 0) {
    return `is writable by its group or by everybody (mode ${(st.mode & 0o777).toString(8)}): chmod go-w it`;
  }
  const me = Deno.uid();
  if (st.uid !== null && me !== null && st.uid !== 0 && st.uid !== me) {
    return `belongs to uid ${st.uid}, neither root nor the node service's account`;
  }
  if (st.mode !== null && (st.mode & 0o111) === 0) return "is not executable";
  return null;
}

/** The whole stream as text, or null (and the rest discarded) past the output cap or when stopped. */
async function readCapped(stream: ReadableStream<Uint8Array>, stop: AbortSignal): Promise<string | null> {
  const reader = stream.getReader();
  const onStop = () => reader.cancel().catch(() => {});
  stop.addEventListener("abort", onStop, { once: true });
  const chunks: Uint8Array[] = [];
  let total = 0;
  let over = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > MAX_OUTPUT_BYTES) over = true; // keep draining, or the program blocks on a full pipe
      else chunks.push(value);
    }
  } catch {
    return null;
  } finally {
    stop.removeEventListener("abort", onStop);
  }
  if (over || stop.aborted) return null;
  const bytes = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    bytes.set(c, off);
    off += c.length;
  }
  return new TextDecoder().decode(bytes);
}

function cut(s: string): string {
  return s.length > 200 ? s.slice(0, 197) + "..." : s;
}
