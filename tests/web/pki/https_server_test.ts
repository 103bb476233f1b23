import assert from "node:assert/strict";
import {
  httpsRedirectFor,
  type PeerCertificate,
  serveHttpRedirect,
  serveHttps,
  serveHttpsWithClientCerts,
} from "../../../src/web/https_server.ts";
import {
  clientKeyAndRequest,
  clientTlsOptions,
  makeKeyAndRequest,
  signCsr,
} from "../../../src/web/pki/mod.ts";
import { hasOpenssl, newCa } from "./pki_fixtures.ts";

const hello = () => new Response("hello over tls");

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

async function serverCert(addresses: string[]) {
  const ca = await newCa();
  const req = await makeKeyAndRequest("node1", addresses.map((a) => ({ type: "ip", value: a })));
  return { ca, tls: { cert: await signCsr(ca, req.csrPem, { kind: "server" }), key: req.keyPem } };
}

Deno.test("HTTPS: a client trusting the cluster CA reaches the server on an address in its certificate", async () => {
  const { ca, tls } = await serverCert(["127.0.0.101"]);
  const server = serveHttps({ hostname: "127.0.0.101", port: 0, tls, handler: hello });
  const client = Deno.createHttpClient({ caCerts: [ca.certPem] });
  try {
    const res = await fetch(`https://127.0.0.101:${server.addr.port}/x`, { client });
    assert.equal(await res.text(), "hello over tls");
  } finally {
    client.close();
    await server.shutdown();
  }
});

Deno.test("HTTPS: an address missing from the certificate and a client without the CA are refused", async () => {
  const { ca, tls } = await serverCert(["127.0.0.101"]);
  // Served on .105, a name the certificate does not carry.
  const server = serveHttps({ hostname: "127.0.0.105", port: 0, tls, handler: hello });
  const client = Deno.createHttpClient({ caCerts: [ca.certPem] });
  try {
    assert.match(
      await fetchFailure(fetch(`https://127.0.0.105:${server.addr.port}/`, { client })),
      /certificate not valid for name "127.0.0.105"/,
    );
    assert.match(await fetchFailure(fetch(`https://127.0.0.105:${server.addr.port}/`)), /UnknownIssuer/);
  } finally {
    client.close();
    await server.shutdown();
  }
});

Deno.test("HTTPS without the CA: refused as an unknown issuer", async () => {
  const { tls } = await serverCert(["127.0.0.101"]);
  const server = serveHttps({ hostname: "127.0.0.101", port: 0, tls, handler: hello });
  try {
    assert.match(await fetchFailure(fetch(`https://127.0.0.101:${server.addr.port}/`)), /UnknownIssuer/);
  } finally {
    await server.shutdown();
  }
});

Deno.test("port 9010 in HTTPS mode redirects to https://<known host>:9453 keeping path and query", async () => {
  const server = serveHttpRedirect({
    hostname: "127.0.0.106",
    port: 0,
    httpsPort: 9453,
    knownHosts: ["127.0.0.106", "node1.example.com"],
    fallbackHost: "127.0.0.106",
    keepOnHttp: {
      match: (p) => /^\/var\/modules\/[^/]+\/ready\.txt$/.test(p),
      handler: () => new Response("OK"),
    },
  });
  const base = `http://127.0.0.106:${server.addr.port}`;
  try {
    const r1 = await fetch(`${base}/console/en/monitoring?x=1&y=%2F`, { redirect: "manual" });
    await r1.body?.cancel();
    assert.equal(r1.status, 301);
    assert.equal(r1.headers.get("location"), "https://127.0.0.106:9453/console/en/monitoring?x=1&y=%2F");
    const r2 = await fetch(`${base}/api/v1/modules/m/start`, {
      method: "POST",
      body: "x",
      redirect: "manual",
    });
    await r2.body?.cancel();
    assert.equal(r2.status, 308, "a POST must stay a POST");
    assert.equal(r2.headers.get("location"), "https://127.0.0.106:9453/api/v1/modules/m/start");
    const probe = await fetch(`${base}/var/modules/m/ready.txt`, { redirect: "manual" });
    assert.equal(await probe.text(), "OK");
  } finally {
    await server.shutdown();
  }
});

Deno.test("the redirect uses the Host header only when it is one of the certificate's names", () => {
  const opts = { knownHosts: ["node1.example.com", "::1"], fallbackHost: "127.0.0.106" };
  const at = (host: string) =>
    httpsRedirectFor(new Request("http://127.0.0.106:9010/a?b=c", { headers: { host } }), opts).headers.get(
      "location",
    );
  assert.equal(at("NODE1.example.com:9010"), "https://node1.example.com:9453/a?b=c");
  assert.equal(at("[::1]:9010"), "https://[::1]:9453/a?b=c");
  assert.equal(at("evil.example.net"), "https://127.0.0.106:9453/a?b=c");
});

Deno.test("mTLS listener: a user_Admin certificate from the cluster CA is verified with its role", async () => {
  const { ca, tls } = await serverCert(["127.0.0.107"]);
  const seen: PeerCertificate[] = [];
  const server = await serveHttpsWithClientCerts({
    hostname: "127.0.0.107",
    port: 0,
    tls,
    caPem: ca.certPem,
    handler: (_req, _addr, peer) => {
      seen.push(peer);
      return new Response(peer.kind);
    },
  });
  const url = `https://127.0.0.107:${server.port}/api/v1/level`;
  const admin = await clientKeyAndRequest("user_Admin_node2");
  const adminCert = await signCsr(ca, admin.csrPem, { kind: "client", role: "Admin" });
  const foreign = await newCa("ecdsa", "CN=Foreign");
  const foreignCert = await signCsr(foreign, admin.csrPem, { kind: "client", role: "Admin" });
  const withCert = Deno.createHttpClient(
    clientTlsOptions({ cacertPem: ca.certPem, certPem: adminCert, keyPem: admin.keyPem }),
  );
  const noCert = Deno.createHttpClient({ caCerts: [ca.certPem] });
  const wrongCa = Deno.createHttpClient({ caCerts: [ca.certPem], cert: foreignCert, key: admin.keyPem });
  try {
    assert.equal(await (await fetch(url, { client: withCert })).text(), "verified");
    assert.deepEqual(seen[0], { kind: "verified", name: "user_Admin_node2", role: "Admin" });
    assert.equal(await (await fetch(url, { client: noCert })).text(), "none");
    assert.equal(await (await fetch(url, { client: wrongCa })).text(), "refused");
  } finally {
    withCert.close();
    noCert.close();
    wrongCa.close();
    await server.close();
  }
});

Deno.test("HTTPS negotiates TLS 1.3 with a client that offers it", async () => {
  if (!await hasOpenssl()) return;
  const { tls } = await serverCert(["127.0.0.108"]);
  const server = serveHttps({ hostname: "127.0.0.108", port: 0, tls, handler: hello });
  try {
    const out = await new Deno.Command("openssl", {
      args: ["s_client", "-connect", `127.0.0.108:${server.addr.port}`],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.match(new TextDecoder().decode(out.stdout), /New, TLSv1\.3/);
  } finally {
    await server.shutdown();
  }
});
