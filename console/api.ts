/// <reference lib="dom" />
// The console's only way to the node: fetch with the session cookie, the CSRF token on state-changing calls,
// and every failure turned into a message the page can show.
import { signal } from "@preact/signals";

export type Role = "Admin" | "Control" | "Monitor";
export type Session = { readonly user: string; readonly role: Role; readonly csrfToken: string };

/** The logged-in user, or null: the login page shows. */
export const session = signal<Session | null>(null);
/** The last failed call, shown in the banner until dismissed or replaced. */
export const lastError = signal<string | null>(null);

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "ApiError";
  }
}

async function errorOf(res: Response): Promise<string> {
  const text = await res.text().catch(() => "");
  try {
    const j = JSON.parse(text) as { error?: string };
    if (j.error) return j.error;
  } catch { /* not JSON */ }
  return text.trim() || `HTTP ${res.status} ${res.statusText}`;
}

/**
 * Calls the API and returns the JSON (or text) answer; throws ApiError with the node's own message. A 401
 * means the session ended (idle timeout, node restart): back to the login page.
 */
export async function api<T>(
  method: "GET" | "POST" | "PUT" | "DELETE",
  path: string,
  body?: unknown,
  options: { text?: boolean; raw?: string; bytes?: Uint8Array } = {},
): Promise<T> {
  const headers: Record<string, string> = {};
  if (method !== "GET" && session.value) headers["x-csrf-token"] = session.value.csrfToken;
  let payload: string | Uint8Array | undefined;
  if (options.bytes !== undefined) {
    payload = options.bytes;
    headers["content-type"] = "application/octet-stream";
  } else if (options.raw !== undefined) {
    payload = options.raw;
    headers["content-type"] = "text/plain; charset=utf-8";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["content-type"] = "application/json";
  }
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: payload as BodyInit | undefined,
      credentials: "same-origin",
    });
  } catch (e) {
    throw new ApiError(0, `the node does not answer: ${(e as Error).message}`);
  }
  if (!res.ok) {
    const message = await errorOf(res);
    if (res.status === 401 && path !== "/login") session.value = null;
    throw new ApiError(res.status, message);
  }
  return (options.text ? await res.text() : await res.json()) as T;
}

/** Runs an action and shows its failure in the banner; resolves to whether it worked. */
export async function act(what: string, call: () => Promise<unknown>): Promise<boolean> {
  try {
    await call();
    lastError.value = null;
    return true;
  } catch (e) {
    lastError.value = `${what}: ${(e as Error).message}`;
    return false;
  }
}

export async function login(user: string, password: string): Promise<Session> {
  const form = new URLSearchParams({ httpd_username: user, httpd_password: password, login: "Login" });
  let res: Response;
  try {
    res = await fetch("/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
      credentials: "same-origin",
    });
  } catch (e) {
    throw new ApiError(0, `the node does not answer: ${(e as Error).message}`);
  }
  if (!res.ok) throw new ApiError(res.status, await errorOf(res));
  const s = await res.json() as Session;
  session.value = { user: s.user, role: s.role, csrfToken: s.csrfToken };
  return session.value;
}

export async function logout(): Promise<void> {
  await fetch("/logout", { method: "POST", credentials: "same-origin" }).catch(() => {});
  session.value = null;
}

/** Restores the session of a reload (the cookie survives it; the token comes back from whoami). */
export async function whoami(): Promise<Session | null> {
  const res = await fetch("/api/v1/auth/whoami", { credentials: "same-origin" }).catch(() => null);
  if (!res || !res.ok) return null;
  const s = await res.json() as Partial<Session>;
  if (!s.user || !s.role || !s.csrfToken) return null;
  session.value = { user: s.user, role: s.role, csrfToken: s.csrfToken };
  return session.value;
}
