// Password hashes: scrypt (N=2^15, r=8, p=1) in the self-describing form
// `$scrypt$ln=15,r=8,p=1$<salt b64>$<hash b64>`, so the cost can be raised later without breaking
// stored hashes. scrypt runs off the main thread (node:crypto's async form), about 100 ms a hash.
import { scrypt, timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";

export type ScryptParams = { readonly ln: number; readonly r: number; readonly p: number };
export const DEFAULT_SCRYPT: ScryptParams = { ln: 15, r: 8, p: 1 };

const SALT_BYTES = 16;
const KEY_BYTES = 32;
// N=2^15, r=8 needs 32 MiB; node's default maxmem (32 MiB) is just too small and fails with
// MEMORY_LIMIT_EXCEEDED (reference/deno-stack-verification.md §3).
const MAXMEM = 64 * 1024 * 1024;
// Bounds on stored parameters, so a tampered file cannot make one login eat the machine.
const MAX_LN = 20;
const MAX_R = 16;
const MAX_P = 4;

export const MIN_PASSWORD_LENGTH = 8;
const MAX_PASSWORD_LENGTH = 1024;

export class PasswordPolicyError extends Error {
  override name = "PasswordPolicyError";
}

/** Returns null when the password is acceptable, otherwise what is wrong with it. */
export function passwordProblem(password: string): string | null {
  const length = [...password.normalize("NFKC")].length;
  if (length < MIN_PASSWORD_LENGTH) {
    return `password too short: ${length} characters, at least ${MIN_PASSWORD_LENGTH} are required`;
  }
  if (length > MAX_PASSWORD_LENGTH) {
    return `password too long: ${length} characters, at most ${MAX_PASSWORD_LENGTH} are accepted`;
  }
  return null;
}

export function scryptRaw(
  password: Uint8Array | string,
  salt: Uint8Array | string,
  keyLength: number,
  params: { N: number; r: number; p: number },
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLength, { ...params, maxmem: MAXMEM }, (err, key) => {
      if (err) reject(err);
      else resolve(new Uint8Array(key));
    });
  });
}

function encodeB64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64").replace(/=+$/, "");
}

function decodeB64(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return null;
  return new Uint8Array(Buffer.from(text, "base64"));
}

/** NFKC so that the same password typed on two keyboards (composed or decomposed accents) matches. */
function passwordBytes(password: string): Uint8Array {
  return new TextEncoder().encode(password.normalize("NFKC"));
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const key = await scryptRaw(passwordBytes(password), salt, KEY_BYTES, {
    N: 2 ** params.ln,
    r: params.r,
    p: params.p,
  });
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${encodeB64(salt)}$${encodeB64(key)}`;
}

export type ParsedHash = {
  readonly params: ScryptParams;
  readonly salt: Uint8Array;
  readonly key: Uint8Array;
};

/** Parses a stored hash; returns the reason when it is not one this program writes. */
export function parseHash(stored: string): ParsedHash | string {
  const m = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d)\$([^$]+)\$([^$]+)$/.exec(stored);
  if (!m) return "not a '$scrypt$ln=..,r=..,p=..$salt$hash' string";
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  if (
    params.ln < 10 || params.ln > MAX_LN || params.r < 1 || params.r > MAX_R || params.p < 1 ||
    params.p > MAX_P
  ) {
    return `scrypt parameters out of range (ln 10..${MAX_LN}, r 1..${MAX_R}, p 1..${MAX_P})`;
  }
  const salt = decodeB64(m[4]);
  const key = decodeB64(m[5]);
  if (!salt || salt.length < 8) return "salt is not base64 of at least 8 bytes";
  if (!key || key.length < 16 || key.length > 64) return "hash is not base64 of 16..64 bytes";
  return { params, salt, key };
}

/** Compares in constant time; unequal lengths are answered without touching timingSafeEqual (it throws). */
export function constantTimeEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (typeof parsed === "string") return false;
  const { params, salt, key } = parsed;
  const got = await scryptRaw(passwordBytes(password), salt, key.length, {
    N: 2 ** params.ln,
    r: params.r,
    p: params.p,
  });
  return constantTimeEqualBytes(got, key);
}

let dummy: Promise<string> | null = null;
/**
 * A hash of a random password with the default cost: verifying against it costs what a real user
 * costs, so an unknown user name cannot be told apart by the time the answer takes.
 */
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(crypto.randomUUID());
  return dummy;
}
