// Where credentials are checked. Only the users file is implemented; LDAP/Active Directory and OpenID
// Connect (spec §9.1: Define useldap / useopenid) plug in behind the same interface later.
import { dummyHash, verifyPassword } from "./password_hash.ts";
import type { Role } from "./roles.ts";
import { DEFAULT_CONSOLE_USER, FileUserStore, UserStoreError } from "./user_store.ts";

export type CredentialVerdict =
  | { readonly ok: true; readonly user: string; readonly role: Role }
  | {
    readonly ok: false;
    /** bad-credentials: unknown user or wrong password (never told apart); not-configured: no users. */
    readonly reason: "bad-credentials" | "not-configured" | "unavailable";
    /** Safe to show to the person logging in. */
    readonly message: string;
  };

/**
 * A source of identities for the form login (POST /login).
 *
 * - `verifyPassword` must take about the same time whether or not the user exists.
 * - An LDAP provider binds as `binddn`, searches `searchurl` for the user, binds as the user's DN with the
 *   password, then maps group membership (admingroup / controlgroup / monitorgroup) to a role; a user in
 *   no group is refused, never given a default role.
 * - An OpenID Connect provider does not see passwords: it will add a redirect flow (/openid) that ends in
 *   the same session creation (`AuthService.openSession`) with the role from AdminClaim / ControlClaim /
 *   MonitorClaim; its `verifyPassword` answers "unavailable".
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
