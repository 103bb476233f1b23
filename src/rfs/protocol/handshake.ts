// Mutual challenge at the start of each replication connection, and the per-connection keys.
//
// Both sides prove they hold the cluster key K over two fresh nonces, one chosen by each side:
//   hello     (client, MAC'd with Kh = HMAC(K, "handshake"))  carries nonce_c
//   challenge (server, MAC'd with Kh)  carries nonce_s and HMAC(K_s2c, "server proof" | hello payload)
//   ready     (client, MAC'd with K_c2s): the first frame under the session key
// with K_c2s = HMAC(K, "c2s" | nonce_c | nonce_s) and K_s2c likewise. A recorded session replayed to a
// server meets a new nonce_s, so its `ready` frame fails the MAC; replayed to a client, the challenge's
// proof fails against the client's new nonce_c. Separate keys per direction stop a frame from being
// reflected back to its sender.
import { createHmac, timingSafeEqual } from "node:crypto";
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
  return hmac(clusterKey, te.encode("safekit-rfs/v1/handshake"));
}

export type SessionKeys = { readonly c2s: Uint8Array; readonly s2c: Uint8Array };

export function sessionKeys(clusterKey: Uint8Array, nonceC: Uint8Array, nonceS: Uint8Array): SessionKeys {
  return {
    c2s: hmac(clusterKey, te.encode("safekit-rfs/v1/c2s"), nonceC, nonceS),
    s2c: hmac(clusterKey, te.encode("safekit-rfs/v1/s2c"), nonceC, nonceS),
  };
}

/** The server's answer to a hello: binds the session key to what the client sent. */
export function serverProof(keys: SessionKeys, helloPayload: Uint8Array): Uint8Array {
  return hmac(keys.s2c, te.encode("server proof"), helloPayload);
}

export function proofMatches(expected: Uint8Array, got: Uint8Array): boolean {
  return expected.length === got.length && timingSafeEqual(expected, got);
}
