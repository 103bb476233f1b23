// Key pairs of the SafeKit PKI: ECDSA P-256 by default (small, fast: ~1 ms a key), RSA-2048 for clients
// that only speak RSA. Private keys are stored as unencrypted PKCS#8 PEM, like SafeKit's server.key.
import * as x509 from "@peculiar/x509";
import { createPrivateKey, createPublicKey } from "node:crypto";

x509.cryptoProvider.set(crypto);

export type KeyKind = "ecdsa" | "rsa";

const EC_GEN: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
const RSA_GEN: RsaHashedKeyGenParams = {
  name: "RSASSA-PKCS1-v1_5",
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: "SHA-256",
};

export function signingAlgorithm(kind: KeyKind): Algorithm | EcdsaParams {
  return kind === "ecdsa" ? { name: "ECDSA", hash: "SHA-256" } : { name: "RSASSA-PKCS1-v1_5" };
}

export async function generateKeyPair(kind: KeyKind = "ecdsa"): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(kind === "ecdsa" ? EC_GEN : RSA_GEN, true, ["sign", "verify"]);
}

export async function privateKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

/** The kind of a PKCS#8 private key, or a reason when it is not one this PKI uses. */
export function keyKindOfPem(pem: string): KeyKind | string {
  try {
    const k = createPrivateKey(pem);
    if (k.asymmetricKeyType === "ec") return "ecdsa";
    if (k.asymmetricKeyType === "rsa") return "rsa";
    return `unsupported key type ${k.asymmetricKeyType}`;
  } catch (e) {
    return `not a readable private key (${(e as Error).message})`;
  }
}

/** Imports a PKCS#8 PEM private key for signing certificates (the CA key). */
export async function importSigningKey(pem: string): Promise<{ key: CryptoKey; kind: KeyKind }> {
  const kind = keyKindOfPem(pem);
  if (kind !== "ecdsa" && kind !== "rsa") throw new Error(kind);
  const der = x509.PemConverter.decodeFirst(pem);
  const alg = kind === "ecdsa" ? EC_GEN : { name: RSA_GEN.name, hash: "SHA-256" };
  return { key: await crypto.subtle.importKey("pkcs8", der, alg, false, ["sign"]), kind };
}

/** SubjectPublicKeyInfo (DER) of the public half of a PEM private key: how a key is matched to a certificate. */
export function publicKeyDerOfPrivatePem(pem: string): Uint8Array {
  return new Uint8Array(createPublicKey(createPrivateKey(pem)).export({ type: "spki", format: "der" }));
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A positive random 128-bit serial (RFC 5280 §4.1.2.2: at most 20 octets, unpredictable). */
export function randomSerial(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[0] &= 0x7f;
  b[0] |= 0x01; // never a leading zero octet, so the hex form is the DER form
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/** SHA-256 fingerprint as printed by `openssl x509 -fingerprint -sha256`: AB:CD:... */
export async function fingerprintSha256(certPem: string): Promise<string> {
  const der = new x509.X509Certificate(certPem).rawData;
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", der));
  return [...h].map((x) => x.toString(16).padStart(2, "0").toUpperCase()).join(":");
}
