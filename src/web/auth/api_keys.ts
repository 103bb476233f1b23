// Bearer API keys (SafeKit 8.2.6, spec §9.2): a key is created for a role and a logical name, shown once,
// and stored only as SHA-256(salt || secret). The token carries the key's id so the check is one lookup and
// one constant-time comparison, not a scan. Keys live in SAFE/web/conf/apikey.json (mode 0600, replaced
// atomically); a record holds no secret, so it can be copied to the other nodes as is (apikey push).
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { atomicWriteFile, readTextIfExists } from "../../platform/atomic_write.ts";
import { constantTimeEqualBytes } from "./password_hash.ts";
import { isRole, type Role } from "./roles.ts";
import { randomToken } from "./sessions.ts";

export const API_KEYS_FILE_FORMAT = "safekit-apikeys-1";
const TOKEN = /^sk1_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export type ApiKeyRecord = {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  /** base64 */
  readonly salt: string;
  /** base64 of SHA-256(salt || secret) */
  readonly hash: string;
  readonly createdAt: string;
  readonly createdBy: string;
};
/** What listing shows: never the hash. */
export type ApiKeyInfo = Pick<ApiKeyRecord, "id" | "name" | "role" | "createdAt" | "createdBy">;

export class ApiKeyError extends Error {
  override name = "ApiKeyError";
  constructor(message: string, readonly status: 400 | 404 | 409 | 500 = 400) {
    super(message);
  }
}

export function apiKeysFilePath(safe: string): string {
  return join(safe, "web", "conf", "apikey.json");
}

export function keyNameProblem(name: string): string | null {
  if (KEY_NAME.test(name)) return null;
  return `invalid API key name '${name}' (1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit)`;
}

async function digest(salt: Uint8Array, secret: string): Promise<Uint8Array> {
  const s = new TextEncoder().encode(secret);
  const buf = new Uint8Array(salt.length + s.length);
  buf.set(salt);
  buf.set(s, salt.length);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
}

export function parseApiKeysFile(text: string, path: string): ApiKeyRecord[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ApiKeyError(`${path}: not valid JSON (${(e as Error).message})`, 500);
  }
  const o = doc as Record<string, unknown> | null;
  if (!o || o.format !== API_KEYS_FILE_FORMAT || !Array.isArray(o.keys)) {
    throw new ApiKeyError(`${path}: expected {"format": "${API_KEYS_FILE_FORMAT}", "keys": [...]}`, 500);
  }
  return o.keys.map((k: Record<string, unknown>, i: number) => {
    const where = `${path}: keys[${i}]`;
    if (typeof k?.id !== "string" || !/^[0-9a-f]{16}$/.test(k.id)) {
      throw new ApiKeyError(`${where}: bad "id"`, 500);
    }
    if (typeof k.name !== "string" || keyNameProblem(k.name)) {
      throw new ApiKeyError(`${where}: bad "name"`, 500);
    }
    if (!isRole(k.role)) throw new ApiKeyError(`${where}: "role" must be Admin, Control or Monitor`, 500);
    if (typeof k.salt !== "string" || typeof k.hash !== "string") {
      throw new ApiKeyError(`${where}: "salt" and "hash" are required`, 500);
    }
    return {
      id: k.id,
      name: k.name,
      role: k.role,
      salt: k.salt,
      hash: k.hash,
      createdAt: String(k.createdAt ?? ""),
      createdBy: String(k.createdBy ?? ""),
    };
  });
}

export class ApiKeyStore {
  #cache: { mtime: number | null; size: number; records: ApiKeyRecord[] } | null = null;
  #writes: Promise<unknown> = Promise.resolve();
  constructor(readonly path: string) {}

  /** Re-read only when the file changed (a stat per bearer request, not a parse). */
  async records(): Promise<ApiKeyRecord[]> {
    let stat: Deno.FileInfo | null = null;
    try {
      stat = await Deno.stat(this.path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    if (!stat) {
      this.#cache = null;
      return [];
    }
    const mtime = stat.mtime?.getTime() ?? null;
    if (this.#cache && this.#cache.mtime === mtime && this.#cache.size === stat.size && mtime !== null) {
      return this.#cache.records;
    }
    const text = await readTextIfExists(this.path);
    const records = text === null ? [] : parseApiKeysFile(text, this.path);
    this.#cache = { mtime, size: stat.size, records };
    return records;
  }

  async list(): Promise<ApiKeyInfo[]> {
    return (await this.records()).map(({ id, name, role, createdAt, createdBy }) => ({
      id,
      name,
      role,
      createdAt,
      createdBy,
    }));
  }

  /** Creates a key; the returned token is the only time the secret exists outside the caller's hands. */
  create(
    role: Role,
    name: string,
    createdBy: string,
    now: Date,
  ): Promise<{ token: string; key: ApiKeyInfo }> {
    return this.#serialized(async () => {
      const problem = keyNameProblem(name);
      if (problem) throw new ApiKeyError(problem);
      const records = await this.records();
      const same = records.find((r) => r.name === name);
      if (same) {
        throw new ApiKeyError(
          `an API key named '${name}' already exists (role ${same.role}); delete it first to replace it`,
          409,
        );
      }
      const id = Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString("hex");
      const secret = randomToken(32);
      const salt = crypto.getRandomValues(new Uint8Array(16));
      const record: ApiKeyRecord = {
        id,
        name,
        role,
        salt: Buffer.from(salt).toString("base64"),
        hash: Buffer.from(await digest(salt, secret)).toString("base64"),
        createdAt: now.toISOString(),
        createdBy,
      };
      await this.#write([...records, record]);
      const { salt: _s, hash: _h, ...info } = record;
      return { token: `sk1_${id}_${secret}`, key: info };
    });
  }

  /** Deletes the key with this name; the role in the URL must match, so a typo cannot delete another key. */
  delete(role: Role, name: string): Promise<void> {
    return this.#serialized(async () => {
      const records = await this.records();
      const found = records.find((r) => r.name === name);
      if (!found) throw new ApiKeyError(`no API key named '${name}'`, 404);
      if (found.role !== role) {
        throw new ApiKeyError(`API key '${name}' has role ${found.role}, not ${role}`, 404);
      }
      await this.#write(records.filter((r) => r !== found));
    });
  }

  /** Adds or replaces a record received from another node (apikey push); the record holds no secret. */
  upsertRecord(record: ApiKeyRecord): Promise<void> {
    return this.#serialized(async () => {
      parseApiKeysFile(JSON.stringify({ format: API_KEYS_FILE_FORMAT, keys: [record] }), "pushed key");
      const records = (await this.records()).filter((r) => r.name !== record.name && r.id !== record.id);
      await this.#write([...records, record]);
    });
  }

  /** The key a bearer token names, or null when the token is malformed, unknown or wrong. */
  async verify(token: string): Promise<ApiKeyRecord | null> {
    const m = TOKEN.exec(token);
    if (!m) return null;
    const record = (await this.records()).find((r) => r.id === m[1]);
    // Hash even when the id is unknown, so timing does not tell which ids exist.
    const salt = record ? new Uint8Array(Buffer.from(record.salt, "base64")) : new Uint8Array(16);
    const got = await digest(salt, m[2]);
    const want = record ? new Uint8Array(Buffer.from(record.hash, "base64")) : new Uint8Array(32);
    return constantTimeEqualBytes(got, want) && record ? record : null;
  }

  async #write(records: ApiKeyRecord[]): Promise<void> {
    await atomicWriteFile(
      this.path,
      JSON.stringify({ format: API_KEYS_FILE_FORMAT, keys: records }, null, 2) + "\n",
      0o600,
    );
    this.#cache = null;
  }

  #serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#writes.then(work, work);
    this.#writes = run.catch(() => {});
    return run;
  }
}
