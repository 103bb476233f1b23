import assert from "node:assert/strict";
import {
  type CertFinding,
  checkCert,
  checkServerCertificate,
  clientKeyAndRequest,
  formatFindings,
  makeKeyAndRequest,
  serverKeyAndRequest,
  signCsr,
} from "../../../src/web/pki/mod.ts";
import { installServerCert, installUserCert, saveCa } from "../../../src/web/pki/store.ts";
import { createCa, loadCa } from "../../../src/web/pki/ca.ts";
import { newCa, tempSafe } from "./pki_fixtures.ts";

const NOW = new Date("2026-06-01T12:00:00Z");
const errors = (f: CertFinding[]) => f.filter((x) => !x.ok).map((x) => x.message);

async function serverPair(hosts = ["127.0.0.101", "node1"]) {
  const ca = await newCa();
  const req = await makeKeyAndRequest(
    "node1",
    hosts.map((h) => ({ type: /^\d/.test(h) ? "ip" : "dns", value: h })),
  );
  return { ca, req };
}

Deno.test("checkcert passes a fresh server certificate that covers the asked names", async () => {
  const { ca, req } = await serverPair();
  const certPem = await signCsr(ca, req.csrPem, { kind: "server" }, { now: NOW });
  const f = await checkServerCertificate({
    certPem,
    keyPem: req.keyPem,
    caPem: ca.certPem,
    now: NOW,
    hosts: ["NODE1", "127.0.0.101"],
  });
  assert.deepEqual(errors(f), [], formatFindings(f));
  assert.ok(f.some((x) => x.message === "server.crt: covers 127.0.0.101"));
});

Deno.test("checkcert reports an expired certificate with its end date", async () => {
  const { ca, req } = await serverPair();
  const certPem = await signCsr(ca, req.csrPem, { kind: "server" }, {
    validity: { notBefore: new Date("2020-01-01T00:00:00Z"), notAfter: new Date("2021-01-01T00:00:00Z") },
  });
  const f = await checkServerCertificate({ certPem, keyPem: req.keyPem, caPem: ca.certPem, now: NOW });
  assert.deepEqual(errors(f), ["server.crt: expired on 2021-01-01T00:00:00Z (now 2026-06-01T12:00:00Z)"]);
});

Deno.test("checkcert reports a certificate not yet valid", async () => {
  const { ca, req } = await serverPair();
  const certPem = await signCsr(ca, req.csrPem, { kind: "server" }, {
    now: new Date("2030-01-01T00:10:00Z"),
  });
  const f = await checkServerCertificate({ certPem, keyPem: req.keyPem, caPem: ca.certPem, now: NOW });
  assert.deepEqual(errors(f), [
    "server.crt: not valid before 2030-01-01T00:00:00Z (now 2026-06-01T12:00:00Z)",
  ]);
});

Deno.test("checkcert reports a certificate from a foreign CA, even one with the same CA name", async () => {
  const { ca, req } = await serverPair();
  const foreign = await newCa("ecdsa", "CN=Someone Else CA");
  const f1 = await checkServerCertificate({
    certPem: await signCsr(foreign, req.csrPem, { kind: "server" }),
    keyPem: req.keyPem,
    caPem: ca.certPem,
    now: new Date(),
  });
  assert.deepEqual(errors(f1), [
    "server.crt: not issued by the CA in cacert.crt (issuer 'CN=Someone Else CA', CA 'CN=SafeKit Local Certificate Authority')",
  ]);
  const impostor = await newCa(); // same default subject, another key
  const f2 = await checkServerCertificate({
    certPem: await signCsr(impostor, req.csrPem, { kind: "server" }),
    keyPem: req.keyPem,
    caPem: ca.certPem,
    now: new Date(),
  });
  assert.match(errors(f2)[0], /same name but the signature does not verify with the CA key/);
});

Deno.test("checkcert reports a name or address missing from the SAN, listing what is there", async () => {
  const { ca, req } = await serverPair();
  const certPem = await signCsr(ca, req.csrPem, { kind: "server" }, { now: NOW });
  const f = await checkServerCertificate({
    certPem,
    keyPem: req.keyPem,
    caPem: ca.certPem,
    now: NOW,
    hosts: ["node2.example.com", "127.0.0.102", "node1"],
  });
  assert.deepEqual(errors(f), [
    "server.crt: does not cover node2.example.com (subject alternative names: IP:127.0.0.101, DNS:node1)",
    "server.crt: does not cover 127.0.0.102 (subject alternative names: IP:127.0.0.101, DNS:node1)",
  ]);
});

Deno.test("checkcert reports a server.key that is not the certificate's key", async () => {
  const { ca, req } = await serverPair();
  const certPem = await signCsr(ca, req.csrPem, { kind: "server" }, { now: NOW });
  const other = await makeKeyAndRequest("x", [{ type: "dns", value: "x" }]);
  const f = await checkServerCertificate({ certPem, keyPem: other.keyPem, caPem: ca.certPem, now: NOW });
  assert.deepEqual(errors(f), [
    "server.crt: server.key does not match the certificate (different public key)",
  ]);
  const missing = await checkServerCertificate({ certPem, keyPem: null, caPem: ca.certPem, now: NOW });
  assert.deepEqual(errors(missing), ["server.crt: server.key is missing"]);
});

Deno.test("checkcert -t all on a node's files checks the CA, the server and each client certificate", async () => {
  const t = await tempSafe();
  try {
    const empty = await checkCert(t.files, { target: "all", now: NOW });
    assert.equal(empty.ok, false);
    assert.deepEqual(errors(empty.findings), [
      "cacert.crt: missing (run 'safekit initssl sca' on the CA node, 'initssl req' here)",
      "server.crt: missing (HTTPS is not set up on this node)",
    ]);
    const created = await createCa({ now: NOW });
    await saveCa(t.files, created);
    const ca = await loadCa(created.certPem, created.keyPem);
    const s = await serverKeyAndRequest({ hostname: "node1", extraNames: ["127.0.0.101"] });
    await installServerCert(t.files, await signCsr(ca, s.csrPem, { kind: "server" }, { now: NOW }), s.keyPem);
    const u = await clientKeyAndRequest("user_Admin_node1");
    const uCert = await signCsr(ca, u.csrPem, { kind: "client", role: "Admin" }, {
      validity: { notBefore: new Date("2020-01-01T00:00:00Z"), notAfter: new Date("2021-01-01T00:00:00Z") },
    });
    await installUserCert(t.files, "user_Admin_node1", uCert, u.keyPem);
    const r = await checkCert(t.files, { target: "all", ips: ["127.0.0.101"], dns: ["node1"], now: NOW });
    assert.deepEqual(errors(r.findings), [
      "user_Admin_node1.crt: expired on 2021-01-01T00:00:00Z (now 2026-06-01T12:00:00Z)",
    ]);
    const serverOnly = await checkCert(t.files, { target: "server", ips: ["127.0.0.101"], now: NOW });
    assert.equal(serverOnly.ok, true, formatFindings(serverOnly.findings));
    const caOnly = await checkCert(t.files, { target: "CA", now: NOW });
    assert.equal(caOnly.ok, true);
    assert.equal(caOnly.findings.length, 1);
    assert.equal((await Deno.stat(t.files.serverKey)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(t.files.caKey)).mode! & 0o777, 0o600);
  } finally {
    await t.cleanup();
  }
});
