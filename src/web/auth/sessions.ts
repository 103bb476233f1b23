// Console sessions: a random id in the `sessionSK` cookie (SafeKit's name), the session itself only on the
// server. Sessions live in memory: restarting the node service logs everybody out, which is also the
// simplest way to revoke them all. Idle expiry slides with use (SafeKit's SessionMaxAge, 8 h); an absolute
// limit ends even a session that is kept busy, so a stolen cookie is not valid forever.
import { Buffer } from "node:buffer";
import type { Role } from "./roles.ts";

export const SESSION_COOKIE = "sessionSK";
export const DEFAULT_IDLE_MS = 8 * 3600_000;
export const DEFAULT_ABSOLUTE_MS = 7 * 24 * 3600_000;
/** Beyond this many live sessions the least recently used one is dropped, so memory stays bounded. */
export const DEFAULT_MAX_SESSIONS = 10_000;

export type Session = {
  readonly id: string;
  readonly user: string;
  readonly role: Role;
  /** The double-submit token a browser must echo in `x-csrf-token` on state-changing calls. */
  readonly csrfToken: string;
  readonly createdAt: number;
  lastUsedAt: number;
};

export type SessionLookup =
  | { readonly kind: "valid"; readonly session: Session }
  | { readonly kind: "expired"; readonly why: "idle" | "absolute" }
  | { readonly kind: "unknown" };

export type SessionLimits = { readonly idleMs: number; readonly absoluteMs: number; readonly max: number };

export function randomToken(bytes = 32): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("base64url");
}

export class SessionStore {
  // Map order is use order (a used session is re-inserted), so the first entry is the least recently used.
  #sessions = new Map<string, Session>();
  readonly limits: SessionLimits;

  constructor(limits: Partial<SessionLimits> = {}) {
    this.limits = {
      idleMs: limits.idleMs ?? DEFAULT_IDLE_MS,
      absoluteMs: limits.absoluteMs ?? DEFAULT_ABSOLUTE_MS,
      max: limits.max ?? DEFAULT_MAX_SESSIONS,
    };
  }

  get size(): number {
    return this.#sessions.size;
  }

  create(user: string, role: Role, now: number): Session {
    while (this.#sessions.size >= this.limits.max) {
      const oldest = this.#sessions.keys().next().value as string;
      this.#sessions.delete(oldest);
    }
    const session: Session = {
      id: randomToken(),
      user,
      role,
      csrfToken: randomToken(),
      createdAt: now,
      lastUsedAt: now,
    };
    this.#sessions.set(session.id, session);
    return session;
  }

  /** Finds a session and, when it is still valid, counts this as use (the idle clock restarts). */
  use(id: string, now: number): SessionLookup {
    const s = this.#sessions.get(id);
    if (!s) return { kind: "unknown" };
    if (now - s.createdAt >= this.limits.absoluteMs) {
      this.#sessions.delete(id);
      return { kind: "expired", why: "absolute" };
    }
    if (now - s.lastUsedAt >= this.limits.idleMs) {
      this.#sessions.delete(id);
      return { kind: "expired", why: "idle" };
    }
    s.lastUsedAt = now;
    this.#sessions.delete(id);
    this.#sessions.set(id, s);
    return { kind: "valid", session: s };
  }

  delete(id: string): boolean {
    return this.#sessions.delete(id);
  }

  /** Ends every session of a user (after a password change or removal). */
  deleteUser(user: string): number {
    let n = 0;
    for (const [id, s] of this.#sessions) {
      if (s.user === user) {
        this.#sessions.delete(id);
        n++;
      }
    }
    return n;
  }

  /** When the session ends if it is not used again. */
  expiresAt(s: Session): number {
    return Math.min(s.lastUsedAt + this.limits.idleMs, s.createdAt + this.limits.absoluteMs);
  }
}

export function expiredMessage(
  lookup: Exclude<SessionLookup, { kind: "valid" }>,
  limits: SessionLimits,
): string {
  if (lookup.kind === "unknown") {
    return "session not found (logged out, or the node service restarted): log in again";
  }
  return lookup.why === "idle"
    ? `session expired after ${formatDuration(limits.idleMs)} without activity: log in again`
    : `session reached its maximum age of ${formatDuration(limits.absoluteMs)}: log in again`;
}

function formatDuration(ms: number): string {
  if (ms % 3600_000 === 0) return `${ms / 3600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 1000)} s`;
}

/**
 * The Set-Cookie value. HttpOnly: scripts never see the id; SameSite=Strict: no other site can make the
 * browser send it; Secure over HTTPS only, or an HTTP console could never log in. No Max-Age: the browser
 * forgets it when it closes, the server enforces the idle and absolute limits.
 */
export function sessionCookie(id: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? "; Secure" : ""}`;
}

/** The value of one cookie in a Cookie header, or null. */
export function readCookie(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return null;
}
