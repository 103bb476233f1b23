// The console users of a node: SAFE/web/conf/user.json, one JSON document with each user's scrypt hash and
// role. JSON rather than SafeKit's htpasswd user.conf + group.conf pair because a role is then stored next
// to its user, explicitly: there is no "no group file => everybody is Admin" rule to fall into. The file
// is replaced atomically (tmp + fsync + rename), mode 0600, and must be identical on every node, like
// SafeKit's user.conf.
import { join } from "node:path";
import { atomicWriteFile, readTextIfExists } from "../../platform/atomic_write.ts";
import { hashPassword, parseHash, PasswordPolicyError, passwordProblem } from "./password_hash.ts";
import { isRole, type Role } from "./roles.ts";

export const USERS_FILE_FORMAT = "safekit-users-1";
/** The console user `safekit webservercfg -passwd` sets when no -user is given. */
export const DEFAULT_CONSOLE_USER = "admin";
/** The private user of distributed commands (`webservercfg -rcmdpasswd`). */
export const DEFAULT_RCMD_USER = "rcmdadmin";

export type UserPurpose = "console" | "distributed-commands";
export type UserRecord = {
  readonly role: Role;
  readonly hash: string;
  readonly purpose: UserPurpose;
  /** ISO date of the last password change. */
  readonly changedAt: string;
};
export type UsersFile = { readonly users: Readonly<Record<string, UserRecord>> };

export class UserStoreError extends Error {
  override name = "UserStoreError";
}

const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export function userNameProblem(name: string): string | null {
  if (USER_NAME.test(name)) return null;
  return `invalid user name '${name}' (1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit)`;
}

export function usersFilePath(safe: string): string {
  return join(safe, "web", "conf", "user.json");
}

/** Parses user.json; every error names the file, the user and the field. */
export function parseUsersFile(text: string, path: string): UsersFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UserStoreError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new UserStoreError(`${path}: expected a JSON object with "format" and "users"`);
  }
  const o = doc as Record<string, unknown>;
  if (o.format !== USERS_FILE_FORMAT) {
    throw new UserStoreError(
      `${path}: "format" is ${JSON.stringify(o.format)}, expected "${USERS_FILE_FORMAT}"`,
    );
  }
  if (typeof o.users !== "object" || o.users === null || Array.isArray(o.users)) {
    throw new UserStoreError(`${path}: "users" must be an object mapping user names to records`);
  }
  const users: Record<string, UserRecord> = {};
  for (const [name, raw] of Object.entries(o.users as Record<string, unknown>)) {
    const where = `${path}: user '${name}'`;
    const nameErr = userNameProblem(name);
    if (nameErr) throw new UserStoreError(`${path}: ${nameErr}`);
    if (typeof raw !== "object" || raw === null) throw new UserStoreError(`${where}: expected an object`);
    const r = raw as Record<string, unknown>;
    if (!isRole(r.role)) {
      throw new UserStoreError(
        `${where}: "role" is ${JSON.stringify(r.role)}, expected "Admin", "Control" or "Monitor"`,
      );
    }
    if (typeof r.hash !== "string") throw new UserStoreError(`${where}: "hash" is missing`);
    const parsed = parseHash(r.hash);
    if (typeof parsed === "string") throw new UserStoreError(`${where}: "hash" ${parsed}`);
    const purpose = r.purpose ?? "console";
    if (purpose !== "console" && purpose !== "distributed-commands") {
      throw new UserStoreError(`${where}: "purpose" must be "console" or "distributed-commands"`);
    }
    users[name] = {
      role: r.role,
      hash: r.hash,
      purpose,
      changedAt: typeof r.changedAt === "string" ? r.changedAt : "",
    };
  }
  return { users };
}

export function serializeUsersFile(file: UsersFile): string {
  const sorted = Object.fromEntries(Object.entries(file.users).sort(([a], [b]) => a.localeCompare(b)));
  return JSON.stringify({ format: USERS_FILE_FORMAT, users: sorted }, null, 2) + "\n";
}

export type SetPasswordOptions = {
  readonly role?: Role;
  readonly purpose?: UserPurpose;
  readonly now?: Date;
};

/**
 * The users file on disk. It is read again at every login (a few hundred bytes), so a file copied from
 * another node or rewritten by `safekit webservercfg` takes effect without restarting the node service.
 */
export class FileUserStore {
  #writes: Promise<unknown> = Promise.resolve();
  constructor(readonly path: string) {}

  /** null when the file does not exist: no user has been set on this node yet. */
  async load(): Promise<UsersFile | null> {
    const text = await readTextIfExists(this.path);
    return text === null ? null : parseUsersFile(text, this.path);
  }

  /**
   * Sets a user's password (`safekit webservercfg -passwd pwd [-user name]`), creating the user if needed.
   * The role is kept for an existing user unless given; a new user gets Admin unless given, as SafeKit's
   * webservercfg does (only root can run it: it writes this file).
   */
  setPassword(user: string, password: string, options: SetPasswordOptions = {}): Promise<UserRecord> {
    return this.#serialized(async () => {
      const nameErr = userNameProblem(user);
      if (nameErr) throw new PasswordPolicyError(nameErr);
      const problem = passwordProblem(password);
      if (problem) throw new PasswordPolicyError(`cannot set the password of '${user}': ${problem}`);
      const current = (await this.load()) ?? { users: {} };
      const existing = current.users[user];
      const record: UserRecord = {
        role: options.role ?? existing?.role ?? "Admin",
        hash: await hashPassword(password),
        purpose: options.purpose ?? existing?.purpose ?? "console",
        changedAt: (options.now ?? new Date()).toISOString(),
      };
      await this.#write({ users: { ...current.users, [user]: record } });
      return record;
    });
  }

  /** `safekit webservercfg -rcmdpasswd pwd [-rcmduser name]`: the account distributed commands log in as. */
  setRcmdPassword(password: string, user = DEFAULT_RCMD_USER, now?: Date): Promise<UserRecord> {
    return this.setPassword(user, password, { role: "Admin", purpose: "distributed-commands", now });
  }

  setRole(user: string, role: Role): Promise<void> {
    return this.#serialized(async () => {
      const current = await this.load();
      const existing = current?.users[user];
      if (!current || !existing) throw new UserStoreError(`no such user '${user}' in ${this.path}`);
      await this.#write({ users: { ...current.users, [user]: { ...existing, role } } });
    });
  }

  removeUser(user: string): Promise<boolean> {
    return this.#serialized(async () => {
      const current = await this.load();
      if (!current || !(user in current.users)) return false;
      const users = { ...current.users };
      delete users[user];
      await this.#write({ users });
      return true;
    });
  }

  async #write(file: UsersFile): Promise<void> {
    await atomicWriteFile(this.path, serializeUsersFile(file), 0o600);
  }

  // Read-modify-write must not interleave within this process, or one of two changes would be lost.
  #serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#writes.then(work, work);
    this.#writes = run.catch(() => {});
    return run;
  }
}
