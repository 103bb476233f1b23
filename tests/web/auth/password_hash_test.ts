import assert from "node:assert/strict";
import {
  constantTimeEqualBytes,
  hashPassword,
  parseHash,
  passwordProblem,
  scryptRaw,
  verifyPassword,
} from "../../../src/web/auth/password_hash.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("scrypt matches the RFC 7914 test vector (N=16384, r=8, p=1)", async () => {
  const dk = await scryptRaw("pleaseletmein", "SodiumChloride", 64, { N: 16384, r: 8, p: 1 });
  assert.equal(
    hex(dk),
    "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2" +
      "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887",
  );
});

Deno.test("a hash is $scrypt$ln=15,r=8,p=1$salt$hash and verifies its own password only", async () => {
  const h = await hashPassword("correct horse");
  assert.match(h, /^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
  assert.equal(await verifyPassword("correct horse", h), true);
  assert.equal(await verifyPassword("correct horsf", h), false);
  assert.equal(await verifyPassword("", h), false);
});

Deno.test("two hashes of one password differ (random salt)", async () => {
  assert.notEqual(await hashPassword("same password"), await hashPassword("same password"));
});

Deno.test("composed and decomposed accents are the same password (NFKC)", async () => {
  const h = await hashPassword("caf\u00e9-password");
  assert.equal(await verifyPassword("cafe\u0301-password", h), true);
});

Deno.test("malformed or out-of-range stored hashes never verify", async () => {
  assert.equal(typeof parseHash("$2y$10$abcdefghijklmnopqrstuv"), "string");
  assert.match(
    parseHash("$scrypt$ln=30,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA") as string,
    /out of range/,
  );
  assert.equal(await verifyPassword("x", "$scrypt$ln=15,r=8,p=1$!!$??"), false);
  // A hash whose key has a different length than scrypt produces is refused, not thrown on.
  const h = await hashPassword("password1");
  const truncated = h.slice(0, h.lastIndexOf("$") + 1) + "AAAAAAAAAAAAAAAAAAAAAA";
  assert.equal(await verifyPassword("password1", truncated), false);
});

Deno.test("constant-time comparison answers false on unequal lengths instead of throwing", () => {
  assert.equal(constantTimeEqualBytes(new Uint8Array(3), new Uint8Array(4)), false);
  assert.equal(constantTimeEqualBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2])), true);
});

Deno.test("password policy: at least 8 characters, with a precise message", () => {
  assert.equal(passwordProblem("abcdefg"), "password too short: 7 characters, at least 8 are required");
  assert.equal(passwordProblem("abcdefgh"), null);
  assert.match(passwordProblem("x".repeat(2000))!, /too long/);
});
