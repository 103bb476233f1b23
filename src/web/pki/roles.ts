// Roles of the web service (spec §9.1): what a client certificate's holder may do.
export const ROLES = ["Admin", "Control", "Monitor"] as const;
export type Role = typeof ROLES[number];

export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}
