// Slows password guessing: after a few failures, per user name and per client address, each further
// attempt must wait, the wait doubling up to a ceiling. Memory is bounded: beyond maxEntries the least
// recently failed entry that is not currently blocking is forgotten, so spraying addresses can neither
// exhaust memory nor flush the entry that protects a targeted account. Time is an input (no clock inside).

export type ThrottleLimits = {
  /** Failures allowed before any wait. */
  readonly freeFailures: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Per table (users, addresses). */
  readonly maxEntries: number;
  /** A record with no failure for this long is forgotten. */
  readonly forgetAfterMs: number;
  /** scrypt needs 32 MiB a hash: at most this many password checks run at once on the node. */
  readonly maxConcurrent: number;
};

export const DEFAULT_THROTTLE: ThrottleLimits = {
  freeFailures: 4,
  baseDelayMs: 1000,
  maxDelayMs: 300_000,
  maxEntries: 10_000,
  forgetAfterMs: 24 * 3600_000,
  maxConcurrent: 4,
};

type Entry = { failures: number; lastFailureAt: number };

export type ThrottleVerdict =
  | { readonly ok: true }
  | {
    readonly ok: false;
    readonly status: 429 | 503;
    readonly retryAfterMs: number;
    readonly message: string;
  };

/** The wait imposed after `failures` consecutive failures (5 failures -> 1 s, 6 -> 2 s, ... up to the max). */
export function backoffMs(failures: number, limits: ThrottleLimits = DEFAULT_THROTTLE): number {
  const over = failures - limits.freeFailures;
  if (over <= 0) return 0;
  return Math.min(limits.baseDelayMs * 2 ** Math.min(over - 1, 40), limits.maxDelayMs);
}

/** One key per client network: an IPv6 client owns a whole /64, so it counts as one address. */
export function addressKey(address: string): string {
  const a = address.replace(/^\[|\]$/g, "").toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return mapped[1];
  if (!a.includes(":")) return a;
  const [head, tail = ""] = a.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = a.includes("::")
    ? [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill("0"), ...t]
    : h;
  return groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":") + "::/64";
}

class BoundedTable {
  readonly #entries = new Map<string, Entry>();
  constructor(private readonly limits: ThrottleLimits) {}

  get size(): number {
    return this.#entries.size;
  }

  blockedUntil(key: string, now: number): number {
    const e = this.#entries.get(key);
    if (!e) return 0;
    if (now - e.lastFailureAt >= this.limits.forgetAfterMs) {
      this.#entries.delete(key);
      return 0;
    }
    return e.lastFailureAt + backoffMs(e.failures, this.limits);
  }

  fail(key: string, now: number): void {
    const e = this.#entries.get(key);
    const fresh = e && now - e.lastFailureAt < this.limits.forgetAfterMs;
    this.#entries.delete(key); // re-inserted last: Map order is failure recency
    if (!fresh) this.#makeRoom(now);
    this.#entries.set(key, { failures: fresh ? e.failures + 1 : 1, lastFailureAt: now });
  }

  reset(key: string): void {
    this.#entries.delete(key);
  }

  #makeRoom(now: number): void {
    if (this.#entries.size < this.limits.maxEntries) return;
    // Prefer forgetting an entry that imposes no wait; look at the oldest few only, so this stays O(1).
    let scanned = 0;
    for (const [key, e] of this.#entries) {
      if (e.lastFailureAt + backoffMs(e.failures, this.limits) <= now || ++scanned >= 64) {
        this.#entries.delete(key);
        return;
      }
    }
  }
}

export class LoginThrottle {
  readonly #users: BoundedTable;
  readonly #addresses: BoundedTable;
  readonly #inFlightUsers = new Set<string>();
  #inFlight = 0;

  constructor(readonly limits: ThrottleLimits = DEFAULT_THROTTLE) {
    this.#users = new BoundedTable(limits);
    this.#addresses = new BoundedTable(limits);
  }

  get size(): { users: number; addresses: number } {
    return { users: this.#users.size, addresses: this.#addresses.size };
  }

  check(user: string, address: string, now: number): ThrottleVerdict {
    const until = Math.max(
      this.#users.blockedUntil(userKey(user), now),
      this.#addresses.blockedUntil(addressKey(address), now),
    );
    if (until <= now) return { ok: true };
    const retryAfterMs = until - now;
    return {
      ok: false,
      status: 429,
      retryAfterMs,
      message: `too many failed logins: retry in ${Math.ceil(retryAfterMs / 1000)} s`,
    };
  }

  /**
   * Reserves the right to run one password check. Concurrent guesses for one user would otherwise all pass
   * `check` before the first failure is recorded. Returns a release function, or the refusal.
   */
  begin(user: string): (() => void) | ThrottleVerdict {
    const key = userKey(user);
    if (this.#inFlightUsers.has(key)) {
      return {
        ok: false,
        status: 429,
        retryAfterMs: 1000,
        message: "another login for this user is being checked: retry in 1 s",
      };
    }
    if (this.#inFlight >= this.limits.maxConcurrent) {
      return { ok: false, status: 503, retryAfterMs: 1000, message: "too many logins at once: retry in 1 s" };
    }
    this.#inFlight++;
    this.#inFlightUsers.add(key);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inFlight--;
      this.#inFlightUsers.delete(key);
    };
  }

  recordFailure(user: string, address: string, now: number): void {
    this.#users.fail(userKey(user), now);
    this.#addresses.fail(addressKey(address), now);
  }

  recordSuccess(user: string, address: string): void {
    this.#users.reset(userKey(user));
    this.#addresses.reset(addressKey(address));
  }
}

function userKey(user: string): string {
  return user.slice(0, 128);
}
