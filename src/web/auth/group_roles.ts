// From what an external directory says about a user (its groups, or roles it names outright) to the one
// SafeKit role the session gets: the highest role any of them maps to. A user that maps to no role gets
// none, never a default (the LDAP rule of spec §9.1: admingroup / controlgroup / monitorgroup).
import { parseRole, type Role, ROLES } from "./roles.ts";

/** Which directory groups give which role; a group may be listed under several roles (the highest wins). */
export type GroupRoleMap = Readonly<Partial<Record<Role, readonly string[]>>>;

/**
 * The role for a set of groups and explicit role names, or null. Group names compare without regard to
 * case, as LDAP and Active Directory compare them.
 */
export function roleFromGroups(
  groups: readonly string[],
  map: GroupRoleMap,
  explicitRoles: readonly Role[] = [],
): Role | null {
  const held = new Set(groups.map((g) => g.toLowerCase()));
  for (const role of ROLES) { // highest first
    if (explicitRoles.includes(role)) return role;
    if ((map[role] ?? []).some((g) => held.has(g.toLowerCase()))) return role;
  }
  return null;
}

/** What an authentication command printed on success. */
export type DirectoryAnswer = {
  readonly user?: string;
  readonly groups: readonly string[];
  readonly roles: readonly Role[];
};

/**
 * Parses the standard output of an authentication command: one `key=value` a line, keys `group` (repeat
 * for each group), `role` (Admin, Control or Monitor) and `user` (the canonical name, when the directory
 * rewrites it). Blank lines and `#` comments are skipped. Throws with the line number on anything else,
 * so a script that prints by mistake is noticed instead of half-read.
 */
export function parseDirectoryAnswer(stdout: string): DirectoryAnswer {
  const groups: string[] = [];
  const roles: Role[] = [];
  let user: string | undefined;
  const lines = stdout.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const eq = line.indexOf("=");
    const key = eq > 0 ? line.slice(0, eq).trim().toLowerCase() : "";
    const value = eq > 0 ? line.slice(eq + 1).trim() : "";
    const where = `line ${i + 1}`;
    if (!value) throw new Error(`${where}: expected key=value (group=, role= or user=), got '${cut(line)}'`);
    if (key === "group") groups.push(value);
    else if (key === "role") {
      const role = parseRole(value);
      if (!role) throw new Error(`${where}: unknown role '${cut(value)}' (Admin, Control or Monitor)`);
      roles.push(role);
    } else if (key === "user") {
      if (user !== undefined) throw new Error(`${where}: user= given twice`);
      user = value;
    } else throw new Error(`${where}: unknown key '${cut(key)}' (group, role or user)`);
  });
  return { user, groups, roles };
}

function cut(s: string): string {
  return s.length > 80 ? s.slice(0, 77) + "..." : s;
}
