// Where credentials are checked: the users file (here), an administrator's program in front of LDAP/AD,
// PAM or RADIUS (command_auth_provider.ts), several of them in turn (chain_auth_provider.ts), chosen by
// SAFE/web/conf/auth.json (auth_config.ts). OpenID Connect is a redirect flow ending in
// AuthService.openSession (docs/security.md).
import { dummyHash, verifyPassword } from "./password_hash.ts";
import type { Role } from "./roles.ts";
import { DEFAULT_CONSOLE_USER, FileUserStore, UserStoreError } from "./user_store.ts";

export type CredentialVerdict =
  | {
    readonly ok: true;
    /** The name the session carries (a directory may canonicalise what was typed). */
    readonly user: string;
    /** The highest role the identity maps to. */
    readonly role: Role;
    /** The directory groups the role was derived from, for the log; absent for file users. */
    readonly groups?: readonly string[];
  }
  | {
    readonly ok: false;
    /**
     * bad-credentials: unknown user or wrong password (never told apart); not-configured: no users;
     * unavailable: the source cannot answer now (damaged file, directory down); no-role: the password was
     * right but the identity maps to no role.
     */
    readonly reason: "bad-credentials" | "not-configured" | "unavailable" | "no-role";
    /** Safe to show to the person logging in. */
    readonly message: string;
  };

/**
 * A source of identities for the form login (POST /login). Asynchronous: it may ask a remote directory.
 *
 * - `verifyPassword` should take about the same time whether or not the user exists.
 * - A directory provider (LDAP, AD) binds as the user, reads the user's groups, and maps them to a role with
 *   `roleFromGroups` (group_roles.ts): the highest mapped role wins; a user in no mapped group gets
 *   `no-role`, never a default role. `CommandAuthProvider` does this with the administrator's program.
 * - An OpenID Connect provider does not see passwords: it adds a redirect flow (/openid) that ends in the
 *   same session creation (`AuthService.openSession`) with the role from its claims mapped the same way.
 */
export interface AuthProvider {
  readonly name: string;
  verifyPassword(user: string, password: string): Promise<CredentialVerdict>;
}

export const INVALID_CREDENTIALS = "invalid user name or password";

export function notConfiguredMessage(): string {
  return "no console user is set on this node: as root, run 'safekit webservercfg -passwd <password>' " +
    `(sets user '${DEFAULT_CONSOLE_USER}'; add '-user <name>' for another user)`;
}

export class FileAuthProvider implements AuthProvider {
  readonly name = "file";
  constructor(
    private readonly store: FileUserStore,
    private readonly log: (message: string) => void = (m) => console.error(m),
  ) {}

  async verifyPassword(user: string, password: string): Promise<CredentialVerdict> {
    let file;
    try {
      file = await this.store.load();
    } catch (e) {
      if (!(e instanceof UserStoreError)) throw e;
      this.log(`login refused: ${e.message}`);
      return {
        ok: false,
        reason: "unavailable",
        message: "the users file of this node is damaged (see the node log)",
      };
    }
    if (file === null || Object.keys(file.users).length === 0) {
      // Still spend a hash: the answer must not come back faster than a real check would.
      await verifyPassword(password, await dummyHash());
      return { ok: false, reason: "not-configured", message: notConfiguredMessage() };
    }
    const record = Object.hasOwn(file.users, user) ? file.users[user] : undefined;
    const ok = await verifyPassword(password, record?.hash ?? await dummyHash());
    if (!ok || !record) return { ok: false, reason: "bad-credentials", message: INVALID_CREDENTIALS };
    return { ok: true, user, role: record.role };
  }
}
