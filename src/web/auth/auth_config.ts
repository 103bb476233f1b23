// Which identity sources a node uses: SAFE/web/conf/auth.json, optional. Without it, only the users file
// (user.json). With it, an administrator's authentication program (LDAP/AD, PAM, RADIUS...) is asked too:
//
//   { "format": "safekit-auth-1",
//     "localUsers": true,
//     "command": { "path": "/opt/safekit/web/conf/ldap-login.sh", "args": [], "timeoutMs": 10000,
//                  "groupRoles": { "Admin": ["ha-admins"], "Control": ["ha-operators"], "Monitor": ["staff"] } } }
//
// Like user.json it is read again at every login, so an edit applies without restarting the node service,
// and it must be the same on every node.
import { join } from "node:path";
import { readTextIfExists } from "../../platform/atomic_write.ts";
import type { AuthProvider, CredentialVerdict } from "./auth_provider.ts";
import { ChainAuthProvider } from "./chain_auth_provider.ts";
import { CommandAuthProvider, type CommandProviderConfig } from "./command_auth_provider.ts";
import type { GroupRoleMap } from "./group_roles.ts";
import { ROLES } from "./roles.ts";

export const AUTH_CONFIG_FORMAT = "safekit-auth-1";

export type AuthConfig = {
  /** Whether the users file is asked (first). Default true: a local account still works when the directory is down. */
  readonly localUsers: boolean;
  readonly command?: CommandProviderConfig;
};

export class AuthConfigError extends Error {
  override name = "AuthConfigError";
}

export function authConfigFilePath(safe: string): string {
  return join(safe, "web", "conf", "auth.json");
}

/** Parses auth.json; every error names the file and the field. Unknown fields are errors (typos). */
export function parseAuthConfig(text: string, path: string): AuthConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new AuthConfigError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  const o = object(doc, path, "the document");
  only(o, ["format", "localUsers", "command"], path, "");
  if (o.format !== AUTH_CONFIG_FORMAT) {
    throw new AuthConfigError(
      `${path}: "format" is ${JSON.stringify(o.format)}, expected "${AUTH_CONFIG_FORMAT}"`,
    );
  }
  if (o.localUsers !== undefined && typeof o.localUsers !== "boolean") {
    throw new AuthConfigError(`${path}: "localUsers" must be true or false`);
  }
  const localUsers = o.localUsers ?? true;
  const command = o.command === undefined ? undefined : parseCommand(o.command, path);
  if (!localUsers && !command) {
    throw new AuthConfigError(
      `${path}: "localUsers" is false and there is no "command": nobody could log in`,
    );
  }
  return { localUsers, command };
}

function parseCommand(raw: unknown, path: string): CommandProviderConfig {
  const c = object(raw, path, '"command"');
  only(c, ["path", "args", "timeoutMs", "groupRoles"], path, "command.");
  if (typeof c.path !== "string" || !c.path.startsWith("/")) {
    throw new AuthConfigError(`${path}: "command.path" must be the absolute path of the program`);
  }
  let args: string[] | undefined;
  if (c.args !== undefined) {
    if (!Array.isArray(c.args) || c.args.length > 32 || !c.args.every((a) => typeof a === "string")) {
      throw new AuthConfigError(`${path}: "command.args" must be a list of at most 32 strings`);
    }
    args = c.args;
  }
  if (
    c.timeoutMs !== undefined &&
    (!Number.isInteger(c.timeoutMs) || (c.timeoutMs as number) < 100 || (c.timeoutMs as number) > 120_000)
  ) {
    throw new AuthConfigError(`${path}: "command.timeoutMs" must be an integer from 100 to 120000`);
  }
  let groupRoles: GroupRoleMap | undefined;
  if (c.groupRoles !== undefined) {
    const g = object(c.groupRoles, path, '"command.groupRoles"');
    only(g, ROLES, path, "command.groupRoles.");
    for (const [role, groups] of Object.entries(g)) {
      if (!Array.isArray(groups) || !groups.every((x) => typeof x === "string" && x.trim() !== "")) {
        throw new AuthConfigError(`${path}: "command.groupRoles.${role}" must be a list of group names`);
      }
    }
    groupRoles = g as GroupRoleMap;
  }
  return { path: c.path, args, timeoutMs: c.timeoutMs as number | undefined, groupRoles };
}

function object(v: unknown, path: string, what: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new AuthConfigError(`${path}: ${what} must be a JSON object`);
  }
  return v as Record<string, unknown>;
}

function only(o: Record<string, unknown>, keys: readonly string[], path: string, prefix: string): void {
  for (const k of Object.keys(o)) {
    if (!keys.includes(k)) {
      throw new AuthConfigError(`${path}: unknown field "${prefix}${k}" (expected ${keys.join(", ")})`);
    }
  }
}

/** The providers an AuthConfig asks for, in order. */
export function providerFor(
  config: AuthConfig,
  fileUsers: AuthProvider,
  log: (message: string) => void,
): AuthProvider {
  const chain: AuthProvider[] = [];
  if (config.localUsers) chain.push(fileUsers);
  if (config.command) chain.push(new CommandAuthProvider(config.command, log));
  return chain.length === 1 ? chain[0] : new ChainAuthProvider(chain);
}

/**
 * The node's provider: reads auth.json at each login and asks what it names. A damaged auth.json leaves
 * the local users working (the users file is its own authority) and makes every other login answer
 * "unavailable", with the precise error in the node log.
 */
export class ConfiguredAuthProvider implements AuthProvider {
  readonly name = "configured";
  constructor(
    readonly path: string,
    private readonly fileUsers: AuthProvider,
    private readonly log: (message: string) => void,
  ) {}

  async verifyPassword(user: string, password: string): Promise<CredentialVerdict> {
    let provider: AuthProvider;
    try {
      const text = await readTextIfExists(this.path);
      provider = text === null
        ? this.fileUsers
        : providerFor(parseAuthConfig(text, this.path), this.fileUsers, this.log);
    } catch (e) {
      if (!(e instanceof AuthConfigError)) throw e;
      this.log(`authentication configuration refused: ${e.message}`);
      provider = new ChainAuthProvider([this.fileUsers, {
        name: "damaged-auth-config",
        verifyPassword: () =>
          Promise.resolve({
            ok: false,
            reason: "unavailable",
            message: "the authentication configuration of this node is damaged (see the node log)",
          }),
      }]);
    }
    return await provider.verifyPassword(user, password);
  }
}
