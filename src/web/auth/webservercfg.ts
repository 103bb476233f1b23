// `safekit webservercfg -passwd pwd [-user name]` and `-rcmdpasswd pwd [-rcmduser name]` (spec §3.1): sets
// console passwords in the users file. The CLI runs it directly on the file (root only: the file is 0600),
// so it works whether or not the node service is running.
import { PasswordPolicyError } from "./password_hash.ts";
import { DEFAULT_CONSOLE_USER, DEFAULT_RCMD_USER, FileUserStore } from "./user_store.ts";
import { parseRole, type Role } from "./roles.ts";

export type WebservercfgRequest =
  | { readonly kind: "passwd"; readonly user: string; readonly password: string; readonly role?: Role }
  | { readonly kind: "rcmdpasswd"; readonly user: string; readonly password: string };

const USAGE =
  "usage: safekit webservercfg -passwd <password> [-user <name>] [-role Admin|Control|Monitor]\n" +
  "       safekit webservercfg -rcmdpasswd <password> [-rcmduser <name>]";

/** Parses the arguments after `webservercfg`; throws PasswordPolicyError with the usage on a mistake. */
export function parseWebservercfgArgs(args: readonly string[]): WebservercfgRequest {
  const opts = new Map<string, string>();
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i];
    if (!["-passwd", "-user", "-role", "-rcmdpasswd", "-rcmduser"].includes(flag)) {
      throw new PasswordPolicyError(`webservercfg: unknown option '${flag}'\n${USAGE}`);
    }
    if (i + 1 >= args.length) {
      throw new PasswordPolicyError(`webservercfg: '${flag}' needs a value\n${USAGE}`);
    }
    opts.set(flag, args[i + 1]);
  }
  const passwd = opts.get("-passwd");
  const rcmd = opts.get("-rcmdpasswd");
  if ((passwd === undefined) === (rcmd === undefined)) {
    throw new PasswordPolicyError(`webservercfg: give exactly one of -passwd and -rcmdpasswd\n${USAGE}`);
  }
  if (passwd !== undefined) {
    const roleText = opts.get("-role");
    const role = roleText === undefined ? undefined : parseRole(roleText);
    if (role === null) throw new PasswordPolicyError(`webservercfg: unknown role '${roleText}'\n${USAGE}`);
    return { kind: "passwd", user: opts.get("-user") ?? DEFAULT_CONSOLE_USER, password: passwd, role };
  }
  return { kind: "rcmdpasswd", user: opts.get("-rcmduser") ?? DEFAULT_RCMD_USER, password: rcmd! };
}

/** Applies a parsed request; returns the line the CLI prints. */
export async function runWebservercfg(store: FileUserStore, request: WebservercfgRequest): Promise<string> {
  if (request.kind === "rcmdpasswd") {
    await store.setRcmdPassword(request.password, request.user);
    return `password of the distributed-commands user '${request.user}' set in ${store.path}`;
  }
  const record = await store.setPassword(request.user, request.password, { role: request.role });
  return `password of '${request.user}' (role ${record.role}) set in ${store.path}`;
}
