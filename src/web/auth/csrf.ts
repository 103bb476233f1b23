// Cross-site request forgery defence for calls authenticated by the session cookie. Two independent checks,
// either of which stops a forged request: the Origin (or Referer) must be this node's own origin, and the
// request must carry the session's token in `x-csrf-token` (a page on another site cannot read it).
// SameSite=Strict on the cookie is a third layer, but old browsers ignore it.
import { constantTimeEqualBytes } from "./password_hash.ts";

export const CSRF_HEADER = "x-csrf-token";

export function isStateChanging(method: string): boolean {
  const m = method.toUpperCase();
  return m !== "GET" && m !== "HEAD" && m !== "OPTIONS";
}

/**
 * Returns null when the request comes from this node's own pages, otherwise why not. A request with neither
 * Origin nor Referer is let through: browsers always send Origin on cross-site POSTs, so a request without
 * it comes from a non-browser client (curl), which cannot be forged by a web page.
 */
export function originProblem(req: Request, trustedOrigins: readonly string[] = []): string | null {
  const own = new URL(req.url).origin;
  const origin = req.headers.get("origin");
  let claimed: string | null = null;
  if (origin !== null) {
    claimed = origin;
  } else {
    const referer = req.headers.get("referer");
    if (referer) {
      try {
        claimed = new URL(referer).origin;
      } catch {
        return "malformed Referer header";
      }
    }
  }
  if (claimed === null) return null;
  if (claimed === own || trustedOrigins.includes(claimed)) return null;
  return `cross-site request refused: origin '${claimed}' is not this console's origin '${own}'`;
}

export function csrfTokenProblem(req: Request, expected: string): string | null {
  const got = req.headers.get(CSRF_HEADER);
  if (!got) {
    return `missing ${CSRF_HEADER} header: state-changing calls with a session cookie must echo the csrfToken ` +
      "returned by POST /login or GET /api/v1/auth/whoami";
  }
  const enc = new TextEncoder();
  if (!constantTimeEqualBytes(enc.encode(got), enc.encode(expected))) {
    return `wrong ${CSRF_HEADER} header (it belongs to another session?): log in again or re-read whoami`;
  }
  return null;
}

/** Both checks, for a state-changing request that a session authenticated. */
export function csrfProblem(
  req: Request,
  sessionToken: string,
  trustedOrigins: readonly string[] = [],
): string | null {
  return originProblem(req, trustedOrigins) ?? csrfTokenProblem(req, sessionToken);
}
