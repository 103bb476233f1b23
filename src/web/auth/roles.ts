// The three console roles of SafeKit (spec §9.1) and what each may do. Admin = configuration + actions +
// monitoring, Control = actions + monitoring, Monitor = read-only monitoring: each role includes the next.

export type Role = "Admin" | "Control" | "Monitor";
export const ROLES: readonly Role[] = ["Admin", "Control", "Monitor"];

const RANK: Readonly<Record<Role, number>> = { Monitor: 1, Control: 2, Admin: 3 };

export function isRole(value: unknown): value is Role {
  return value === "Admin" || value === "Control" || value === "Monitor";
}

/** Parses a role name as written in a URL or a file; the spelling is SafeKit's, case-insensitively. */
export function parseRole(value: string): Role | null {
  const found = ROLES.find((r) => r.toLowerCase() === value.toLowerCase());
  return found ?? null;
}

export function roleAllows(held: Role, required: Role): boolean {
  return RANK[held] >= RANK[required];
}

/** What the API table says about a route, as far as authorisation is concerned. */
export type RouteAccess = { readonly mutates: boolean; readonly requiredRole?: Role };

/**
 * The role a route needs. A route that only reads needs Monitor; a route that changes state needs Admin
 * unless the table marks it as an action (requiredRole "Control"): configuring must be asked for
 * explicitly lower, never obtained by forgetting a flag.
 */
export function requiredRoleOf(route: RouteAccess): Role {
  if (route.requiredRole) {
    // A read-write route cannot be opened to Monitor by mistake: Monitor is read-only by definition.
    if (route.mutates && route.requiredRole === "Monitor") return "Control";
    return route.requiredRole;
  }
  return route.mutates ? "Admin" : "Monitor";
}
