// Mutual challenge at the start of each replication connection, and the per-connection keys.
//
// Both sides prove they hold the cluster key K over two fresh nonces, one chosen by each side:
//   hello     (client, HMAC-SHA256 with Kh = HMAC(K, "safekit-rfs/v2/handshake"))  carries nonce_c
//   challenge (server, HMAC-SHA256 with Kh)  carries nonce_s and HMAC(K_proof, "server proof" | hello payload)
//   ready     (client, Poly1305 under K_c2s): the first frame under the session key
// with K_x = HKDF-SHA256(ikm K, salt nonce_c | nonce_s, info "safekit-rfs/v2/x"), x = c2s, s2c, proof. A
// recorded session replayed to a server meets a new nonce_s, so its `ready` frame fails the tag; replayed
// to a client, the challenge's proof fails against the client's new nonce_c. Separate keys per direction
// stop a frame from being reflected back to its sender, and make (key, sequence number) a nonce that is
// never reused: Poly1305's one-time keys stay one-time (frame_auth.ts). The proof has its own key, so no
// key serves two algorithms.
import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { NONCE_BYTES } from "./messages.ts";

export const CLUSTER_KEY_BYTES = 32;
const te = new TextEncoder();

function hmac(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = createHmac("sha256", key);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

export function checkClusterKey(key: Uint8Array): void {
  if (key.length !== CLUSTER_KEY_BYTES) {
    throw new RangeError(`cluster key must be ${CLUSTER_KEY_BYTES} bytes, got ${key.length}`);
  }
}

export function newNonce(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
}

/** Key of the two unauthenticated-yet frames (hello, challenge). */
export function handshakeKey(clusterKey: Uint8Array): Uint8Array {
  return hmac(clusterKey, te.encode("safekit-rfs/v2/handshake"));
}

/** Keys of one connection: the frame key of each direction (Poly1305) and the server proof's (HMAC). */
export type SessionKeys = { readonly c2s: Uint8Array; readonly s2c: Uint8Array; readonly proof: Uint8Array };

export function sessionKeys(clusterKey: Uint8Array, nonceC: Uint8Array, nonceS: Uint8Array): SessionKeys {
  const salt = new Uint8Array(nonceC.length + nonceS.length);
  salt.set(nonceC);
  salt.set(nonceS, nonceC.length);
  const derive = (what: string) =>
    new Uint8Array(hkdfSync("sha256", clusterKey, salt, te.encode(`safekit-rfs/v2/${what}`), 32));
  return { c2s: derive("c2s"), s2c: derive("s2c"), proof: derive("proof") };
}

/** The server's answer to a hello: binds the session keys to what the client sent. */
export function serverProof(keys: SessionKeys, helloPayload: Uint8Array): Uint8Array {
  return hmac(keys.proof, te.encode("server proof"), helloPayload);
}

export function proofMatches(expected: Uint8Array, got: Uint8Array): boolean {
  return expected.length === got.length && timingSafeEqual(expected, got);
}
