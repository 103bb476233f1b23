// The ChaCha20-Poly1305 AAD-only tag of frame_auth.ts computed by the system's OpenSSL 3 (libcrypto.so.3)
// through Deno FFI: the same 16 bytes as node:crypto and chacha_poly_tag.ts, at 0.23 ms per MiB against
// node:crypto's 0.41 on the dev VM (OpenSSL's AVX2 Poly1305; scripts/bench/frame_tag.ts). A replicated
// write is tagged by the primary and checked by the secondary, one after the other, so this is paid twice
// on the path of every acknowledged write and of every reintegrated byte.
//
// libcrypto.so.3 is present wherever OpenSSL 3 is (Debian 12+, Ubuntu 22.04+, RHEL 9+). Where it cannot be
// opened, openSslAadTagger() returns null and the caller keeps node:crypto: the bytes are the same, so two
// nodes may use different backends.
//
// All calls are synchronous on the JS thread and run Init..Final in one go, so one cipher context serves
// every key and nonce of the process.

const SYMBOLS = {
  EVP_CIPHER_CTX_new: { parameters: [], result: "pointer" },
  EVP_chacha20_poly1305: { parameters: [], result: "pointer" },
  EVP_EncryptInit_ex: { parameters: ["pointer", "pointer", "pointer", "buffer", "buffer"], result: "i32" },
  EVP_EncryptUpdate: { parameters: ["pointer", "pointer", "buffer", "buffer", "i32"], result: "i32" },
  EVP_EncryptFinal_ex: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  EVP_CIPHER_CTX_ctrl: { parameters: ["pointer", "i32", "i32", "buffer"], result: "i32" },
} as const;
type Lib = Deno.DynamicLibrary<typeof SYMBOLS>;

/** EVP_CTRL_AEAD_GET_TAG (openssl/evp.h). */
const GET_TAG = 0x10;
/** EVP_EncryptUpdate takes an int length: larger parts are fed in slices below it. */
const MAX_UPDATE = 1 << 30;

export interface AadTagger {
  /** Writes the tag of AAD = concat(parts), empty plaintext, under (key, nonce) into `out` and returns it. */
  tag(key: Uint8Array, nonce: Uint8Array, parts: readonly Uint8Array[], out?: Uint8Array): Uint8Array;
}

class OpenSslAadTagger implements AadTagger {
  private readonly outLen = new Uint8Array(4);
  private readonly finalOut = new Uint8Array(32);
  constructor(
    private readonly lib: Lib,
    private readonly ctx: Deno.PointerObject,
    private readonly cipher: Deno.PointerObject,
  ) {}

  tag(
    key: Uint8Array,
    nonce: Uint8Array,
    parts: readonly Uint8Array[],
    out = new Uint8Array(16),
  ): Uint8Array {
    if (key.length !== 32) throw new RangeError(`a ChaCha20 key is 32 bytes, got ${key.length}`);
    if (nonce.length !== 12) throw new RangeError(`a ChaCha20 nonce is 12 bytes, got ${nonce.length}`);
    if (out.length < 16) throw new RangeError(`the tag needs 16 bytes, got ${out.length}`);
    const s = this.lib.symbols;
    let ok = s.EVP_EncryptInit_ex(this.ctx, this.cipher, null, key, nonce) === 1;
    for (const p of parts) {
      // A null output buffer makes the input additional data; successive calls extend it as one stream.
      for (let at = 0; ok && at < p.length; at += MAX_UPDATE) {
        const piece = p.subarray(at, at + MAX_UPDATE);
        ok = s.EVP_EncryptUpdate(this.ctx, null, this.outLen, piece, piece.length) === 1;
      }
    }
    ok = ok && s.EVP_EncryptFinal_ex(this.ctx, this.finalOut, this.outLen) === 1;
    ok = ok && s.EVP_CIPHER_CTX_ctrl(this.ctx, GET_TAG, 16, out) === 1;
    if (!ok) throw new Error("OpenSSL refused a ChaCha20-Poly1305 tag computation");
    return out;
  }
}

let cached: AadTagger | null | undefined;
/** Why the OpenSSL backend is not in use (null while it is, or before the first call). */
export let openSslUnavailableReason: string | null = null;

/** The OpenSSL tagger, or null when libcrypto.so.3 cannot be used here (see the file comment). */
export function openSslAadTagger(): AadTagger | null {
  if (cached !== undefined) return cached;
  cached = null;
  if (Deno.env.get("SAFEKIT_RFS_NO_OPENSSL") === "1") {
    openSslUnavailableReason = "disabled by SAFEKIT_RFS_NO_OPENSSL=1";
    return null;
  }
  try {
    const lib: Lib = Deno.dlopen("libcrypto.so.3", SYMBOLS);
    const ctx = lib.symbols.EVP_CIPHER_CTX_new();
    const cipher = lib.symbols.EVP_chacha20_poly1305();
    if (ctx === null || cipher === null) {
      openSslUnavailableReason = "libcrypto.so.3 has no ChaCha20-Poly1305";
      lib.close();
      return null;
    }
    const tagger = new OpenSslAadTagger(lib, ctx, cipher);
    // A known answer (RFC 8439 §2.8.2's key and nonce, AAD only, checked against node:crypto in the tests)
    // guards against a library that loads but computes something else.
    const key = new Uint8Array(32).map((_, i) => 0x80 + i);
    const nonce = new Uint8Array([7, 0, 0, 0, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47]);
    const got = tagger.tag(key, nonce, [new Uint8Array([0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1, 0xc2, 0xc3])]);
    if (toHex(got) !== SELF_TEST_TAG) {
      openSslUnavailableReason = `libcrypto.so.3 failed the self-test (tag ${toHex(got)})`;
      lib.close();
      return null;
    }
    cached = tagger;
  } catch (e) {
    openSslUnavailableReason = `libcrypto.so.3 cannot be used: ${(e as Error).message}`;
  }
  return cached;
}

/** For the node's log: which code computes the tags of large frames here, and why when not OpenSSL. */
export function frameTagBackend(): string {
  return openSslAadTagger()
    ? "OpenSSL (libcrypto.so.3)"
    : `node:crypto (OpenSSL not used: ${openSslUnavailableReason})`;
}

const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
/** node:crypto's tag for the self-test input above (tests/rfs/protocol/openssl_aad_tag_test.ts). */
export const SELF_TEST_TAG = "d097eadfec48232832d9bd9f5ce6d144";
