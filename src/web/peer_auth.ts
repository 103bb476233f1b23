// Authenticates HTTP requests between cluster nodes with the cluster key (HMAC-SHA256). A signature covers the method, the path with its query, a timestamp,
// a nonce and the SHA-256 of the body; a request older than the skew window, or a nonce seen before, is
// refused, so a captured request cannot be replayed.

const encoder = new TextEncoder();
export const PEER_AUTH_HEADER = "x-safekit-peer";
const MAX_SKEW_MS = 60_000;

function hex(bytes: ArrayBuffer | Uint8Array): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function hmac(key: Uint8Array, text: string): Promise<string> {
  const k = await crypto.subtle.importKey(
    "raw",
    key as BufferSource,
    { name: "HMAC", hash: "SHA-256" },
    false,
    [
      "sign",
    ],
  );
  return hex(await crypto.subtle.sign("HMAC", k, encoder.encode(text)));
}

async function bodyDigest(body: Uint8Array): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", body as BufferSource));
}

function canonical(
  method: string,
  pathAndQuery: string,
  node: string,
  ts: number,
  nonce: string,
  digest: string,
) {
  return [method.toUpperCase(), pathAndQuery, node, String(ts), nonce, digest].join("\n");
}

export async function signPeerRequest(
  key: Uint8Array,
  node: string,
  method: string,
  pathAndQuery: string,
  body: Uint8Array,
  now: number,
): Promise<string> {
  const nonce = hex(crypto.getRandomValues(new Uint8Array(12)));
  const sig = await hmac(key, canonical(method, pathAndQuery, node, now, nonce, await bodyDigest(body)));
  return `node=${encodeURIComponent(node)},ts=${now},nonce=${nonce},sig=${sig}`;
}

export type PeerVerdict = { ok: true; node: string } | { ok: false; reason: string };

/** Remembers recent nonces for the skew window; bounded so a flood cannot grow it without limit. */
export class NonceCache {
  #seen = new Map<string, number>();
  constructor(private readonly max = 10_000) {}
  checkAndAdd(nonce: string, now: number): boolean {
    for (const [n, t] of this.#seen) {
      if (now - t <= MAX_SKEW_MS * 2 && this.#seen.size < this.max) break;
      this.#seen.delete(n);
    }
    if (this.#seen.has(nonce)) return false;
    this.#seen.set(nonce, now);
    return true;
  }
}

type PeerHeader = {
  readonly node: string;
  readonly ts: number;
  readonly nonce: string;
  readonly sig: string;
};

function parsePeerHeader(header: string): PeerHeader | null {
  if (header.length > 512) return null;
  const fields = new Map<string, string>();
  for (const part of header.split(",")) {
    const i = part.indexOf("=");
    if (i > 0) fields.set(part.slice(0, i), part.slice(i + 1));
  }
  let node: string;
  try {
    node = decodeURIComponent(fields.get("node") ?? "");
  } catch {
    return null;
  }
  const ts = Number(fields.get("ts"));
  const nonce = fields.get("nonce") ?? "";
  const sig = fields.get("sig") ?? "";
  if (!node || !Number.isSafeInteger(ts) || !/^[0-9a-f]{24}$/.test(nonce) || !/^[0-9a-f]{64}$/.test(sig)) {
    return null;
  }
  return { node, ts, nonce, sig };
}

/**
 * What can be said of a signature header without the body it covers: malformed or stale. The app asks this
 * before reading the body, so a forged header cannot make the node buffer an upload for nothing.
 */
export function peerHeaderProblem(header: string, now: number): string | null {
  const h = parsePeerHeader(header);
  if (!h) return "malformed cluster signature";
  if (Math.abs(now - h.ts) > MAX_SKEW_MS) return "stale cluster signature (check clocks)";
  return null;
}

export async function verifyPeerRequest(
  key: Uint8Array | null,
  header: string | null,
  method: string,
  pathAndQuery: string,
  body: Uint8Array,
  now: number,
  nonces: NonceCache,
  knownNodes: ReadonlySet<string>,
): Promise<PeerVerdict> {
  if (!key) return { ok: false, reason: "this node has no cluster key (run 'safekit cluster config' first)" };
  if (!header) return { ok: false, reason: "missing cluster signature" };
  const h = parsePeerHeader(header);
  if (!h) return { ok: false, reason: "malformed cluster signature" };
  const { node, ts, nonce, sig } = h;
  if (!knownNodes.has(node)) return { ok: false, reason: `unknown node '${node}'` };
  if (Math.abs(now - ts) > MAX_SKEW_MS) {
    return { ok: false, reason: "stale cluster signature (check clocks)" };
  }
  const want = await hmac(key, canonical(method, pathAndQuery, node, ts, nonce, await bodyDigest(body)));
  if (!constantTimeEqual(want, sig)) return { ok: false, reason: "bad cluster signature" };
  if (!nonces.checkAndAdd(nonce, now)) return { ok: false, reason: "replayed request" };
  return { ok: true, node };
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return d === 0;
}
