// HTTPS on a real node service (127.0.0.51): the built-in CA's certificate is checked by clients as a
// browser would (address in the SAN, chain, dates), TLS 1.3 is what a current client gets, checkcert finds
// an expired certificate, the session cookie is Secure, and port 9010 never redirects to a host the client
// chose in its Host header.
import assert from "node:assert/strict";
import { join } from "node:path";
import tls from "node:tls";
import { clusterXml, TestNode, withNodes } from "../../integration/node_harness.ts";
import { loadLocalCa, makeKeyAndRequest, pkiFiles, signCsr } from "../../../src/web/pki/mod.ts";

const ADDR = "127.0.0.51";

/** Deno's fetch says "fetch failed"; the TLS reason is in the cause. */
async function fetchFailure(p: Promise<Response>): Promise<string> {
  try {
    const r = await p;
    await r.body?.cancel();
    return `no failure: ${r.status}`;
  } catch (e) {
    return `${e} ${(e as Error).cause}`;
  }
}

/** A TLS handshake with node:tls; resolves with the protocol, or the verification error. */
function handshake(
  opts: { ca: string; servername?: string },
): Promise<{ protocol: string | null; error: string | null }> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: ADDR,
      port: 9453,
      ca: opts.ca,
      servername: opts.servername,
      rejectUnauthorized: true,
    });
    socket.once("secureConnect", () => {
      resolve({ protocol: socket.getProtocol(), error: null });
      socket.destroy();
    });
    socket.once(
      "error",
      (e: Error & { code?: string }) => resolve({ protocol: null, error: `${e.code} ${e.message}` }),
    );
  });
}

/** Replaces server.crt/.key with one the node's CA signs for `addresses`, then rebinds 9453. */
async function installServerCert(
  n: TestNode,
  addresses: string[],
  validity?: { notBefore: Date; notAfter: Date },
): Promise<void> {
  const files = pkiFiles(n.safe);
  const ca = await loadLocalCa(files);
  assert.ok(ca, "the node has its CA");
  const req = await makeKeyAndRequest(n.name, addresses.map((value) => ({ type: "ip" as const, value })));
  const cert = await signCsr(ca, req.csrPem, { kind: "server" }, { validity });
  await Deno.writeTextFile(files.serverKey, req.keyPem);
  await Deno.writeTextFile(files.serverCert, cert);
  await n.ok("webserver", "restart");
}

async function rawRedirect(host: string, target: string): Promise<{ status: number; head: string }> {
  const conn = await Deno.connect({ hostname: ADDR, port: 9010 });
  try {
    await conn.write(
      new TextEncoder().encode(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`),
    );
    let text = "";
    const buf = new Uint8Array(16 * 1024);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.slice(0, n));
    }
    const head = text.split("\r\n\r\n")[0];
    return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head };
  } finally {
    try {
      conn.close();
    } catch { /* closed by the server */ }
  }
}

Deno.test("HTTPS on a real node: SAN, TLS 1.3, checkcert on an expired certificate, Secure cookie, safe redirect", async () => {
  await withNodes([["node1", ADDR]], async ([n1], root) => {
    // node2 (127.0.0.52) is only named: a cluster needs two nodes, this test needs one running.
    await Deno.writeTextFile(
      join(root, "cluster.xml"),
      clusterXml([n1, new TestNode("node2", "127.0.0.52", root)]),
    );
    await n1.ok("cluster", "config", "cluster.xml");
    await n1.ok("webservercfg", "-passwd", "correct horse battery");
    await n1.ok("initssl", "sca");
    assert.match(await n1.ok("webserver", "restart"), /\(https\)/);
    const ca = await Deno.readTextFile(pkiFiles(n1.safe).cacert);
    const client = Deno.createHttpClient({ caCerts: [ca] });
    try {
      // TLS 1.3 by default, and the certificate is valid for the node's address.
      const ok = await handshake({ ca });
      assert.deepEqual(ok, { protocol: "TLSv1.3", error: null });
      // A client that asked for another name refuses the certificate (it carries only the node's names).
      const other = await handshake({ ca, servername: "evil.example" });
      assert.equal(other.protocol, null);
      assert.match(other.error ?? "", /ERR_TLS_CERT_ALTNAME_INVALID|does not match|not valid/i);
      // A client without the cluster CA refuses it too.
      assert.match(await fetchFailure(fetch(`https://${ADDR}:9453/api/openapi.json`)), /UnknownIssuer/);

      // Login over HTTPS: the session cookie is Secure.
      const login = await fetch(`https://${ADDR}:9453/login`, {
        method: "POST",
        client,
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "httpd_username=admin&httpd_password=correct+horse+battery",
      });
      assert.equal(login.status, 200);
      await login.body?.cancel();
      assert.match(login.headers.get("set-cookie") ?? "", /; HttpOnly; SameSite=Strict; Secure$/);

      // Port 9010: the redirect goes to the node's own name, whatever Host the client sent; the path's
      // encoded bytes stay encoded (no header injection).
      let redirected = 0;
      for (const host of ["evil.example", "evil.example:9010", `${ADDR}@evil.example`, "[::1]", ""]) {
        const r = await rawRedirect(host, "/console/?a=1");
        if (r.status === 400) continue; // a Host the HTTP layer refuses outright is fine too
        redirected++;
        assert.equal(r.status, 301, `${host}: ${r.head}`);
        assert.match(
          r.head,
          new RegExp(`\\r\\nlocation: https://${ADDR.replaceAll(".", "\\.")}:9453/console/\\?a=1\\r\\n`, "i"),
        );
      }
      assert.ok(redirected >= 3, `only ${redirected} hostile hosts reached the redirect`);
      const injected = await rawRedirect(ADDR, "/x%0d%0aSet-Cookie:%20sessionSK=evil");
      assert.equal(injected.status, 301);
      assert.doesNotMatch(injected.head, /\r\nset-cookie:/i);
      assert.match(
        injected.head,
        /location: https:\/\/127\.0\.0\.51:9453\/x%0d%0aSet-Cookie:%20sessionSK=evil/i,
      );
      const slashes = await rawRedirect(ADDR, "//evil.example/path");
      assert.match(slashes.head, /location: https:\/\/127\.0\.0\.51:9453\/\/evil\.example\/path/i);

      // A certificate without the node's address: clients refuse it; checkcert -i names the gap.
      await installServerCert(n1, ["127.0.0.99"]);
      assert.match(
        await fetchFailure(fetch(`https://${ADDR}:9453/api/openapi.json`, { client })),
        /not valid for name "127\.0\.0\.51"/,
      );
      const gap = await n1.cli("checkcert", "-t", "server", "-i", ADDR);
      assert.equal(gap.code, 1);
      assert.match(gap.stdout, /ERR server\.crt: does not cover 127\.0\.0\.51/);
      // Without -i, checkcert checks the node's own cluster addresses by default.
      const byDefault = await n1.cli("checkcert", "-t", "server");
      assert.equal(byDefault.code, 1);
      assert.match(byDefault.stdout, /ERR server\.crt: does not cover 127\.0\.0\.51/);

      // An expired certificate: checkcert says so and exits 1; clients refuse it.
      await installServerCert(n1, [ADDR], {
        notBefore: new Date("2020-01-01T00:00:00Z"),
        notAfter: new Date("2021-01-01T00:00:00Z"),
      });
      const expired = await n1.cli("checkcert", "-t", "server");
      assert.equal(expired.code, 1);
      assert.match(expired.stdout, /ERR server\.crt: expired on 2021-01-01T00:00:00Z/);
      assert.match(
        await fetchFailure(fetch(`https://${ADDR}:9453/api/openapi.json`, { client })),
        /Expired|expired/,
      );
    } finally {
      client.close();
    }
  });
});
