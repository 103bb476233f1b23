import assert from "node:assert/strict";
import * as x509 from "@peculiar/x509";
import { hashPassword } from "../../../src/web/auth/password_hash.ts";
import {
  caServiceHandler,
  clientCertIdentity,
  clientKeyAndRequest,
  MAX_CA_REQUEST_BYTES,
  readPem,
  serverKeyAndRequest,
} from "../../../src/web/pki/mod.ts";
import { newCa, tempSafe } from "./pki_fixtures.ts";

const PASSWORD = "ca-admin-secret";
const basic = (user: string, pw: string) => `Basic ${btoa(`${user}:${pw}`)}`;

async function fixture() {
  const t = await tempSafe();
  const ca = await newCa();
  const handler = caServiceHandler({ ca, files: t.files, passwordHash: await hashPassword(PASSWORD) });
  return { t, ca, handler };
}

function post(form: Record<string, string>, auth?: string): Request {
  return new Request("https://127.0.0.110:9001/caserv", {
    method: "POST",
    headers: {
      ...(auth ? { authorization: auth } : {}),
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams(form),
  });
}

Deno.test("CA service signs a server request for CA_admin with the right password and serves it back", async () => {
  const { t, ca, handler } = await fixture();
  try {
    const req = await serverKeyAndRequest({ hostname: "node2", extraNames: ["127.0.0.102"] });
    const res = await handler(
      post(
        { action: "signrequest", name: "server_node2", servercsr: req.csrPem },
        basic("CA_admin", PASSWORD),
      ),
    );
    assert.equal(res.status, 200);
    const pem = await res.text();
    const cert = new x509.X509Certificate(pem);
    assert.ok(await cert.verify({ publicKey: ca.cert.publicKey }));
    assert.equal(await readPem(t.files.issuedCert("server_node2")), pem);
    const back = await handler(new Request("https://127.0.0.110:9001/certs/server_node2.crt"));
    assert.equal(await back.text(), pem);
    const caBack = await handler(new Request("https://127.0.0.110:9001/certs/cacert.crt"));
    assert.equal(await caBack.text(), ca.certPem);
    const missing = await handler(new Request("https://127.0.0.110:9001/certs/nobody.crt"));
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  } finally {
    await t.cleanup();
  }
});

Deno.test("CA service signs a user request with the role named in user_<Role>_<host>", async () => {
  const { t, handler } = await fixture();
  try {
    const req = await clientKeyAndRequest("user_Monitor_node2");
    const res = await handler(
      post(
        { action: "signrequest", name: "user_Monitor_node2", usercsr: req.csrPem },
        basic("CA_admin", PASSWORD),
      ),
    );
    assert.deepEqual(clientCertIdentity(await res.text()), { name: "user_Monitor_node2", role: "Monitor" });
    const bad = await handler(
      post({ action: "signrequest", name: "alice", usercsr: req.csrPem }, basic("CA_admin", PASSWORD)),
    );
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /must be user_<Admin\|Control\|Monitor>_<host>, not 'alice'/);
  } finally {
    await t.cleanup();
  }
});

Deno.test("CA service refuses a wrong password, a wrong user and no credentials, and signs nothing", async () => {
  const { t, handler } = await fixture();
  try {
    const req = await serverKeyAndRequest({ hostname: "node2" });
    const form = { action: "signrequest", name: "server_node2", servercsr: req.csrPem };
    for (
      const auth of [basic("CA_admin", "wrong-password"), basic("admin", PASSWORD), undefined, "Basic !!!"]
    ) {
      const res = await handler(post(form, auth));
      assert.equal(res.status, 401, String(auth));
      assert.equal(res.headers.get("www-authenticate"), 'Basic realm="safecaserv"');
      await res.body?.cancel();
    }
    assert.equal(await readPem(t.files.issuedCert("server_node2")), null);
  } finally {
    await t.cleanup();
  }
});

Deno.test("CA service bounds request bodies, declared or streamed", async () => {
  const { t, handler } = await fixture();
  try {
    const declared = new Request("https://127.0.0.110:9001/caserv", {
      method: "POST",
      headers: {
        "content-length": String(MAX_CA_REQUEST_BYTES + 1),
        authorization: basic("CA_admin", PASSWORD),
      },
      body: "x",
    });
    const r1 = await handler(declared);
    assert.equal(r1.status, 413);
    assert.match(await r1.text(), /request body too large \(65537 bytes, at most 65536\)/);
    const chunk = new Uint8Array(16 * 1024);
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        sent += chunk.length;
        c.enqueue(chunk);
        if (sent > 10 * MAX_CA_REQUEST_BYTES) c.close();
      },
    });
    const streamed = new Request("https://127.0.0.110:9001/caserv", {
      method: "POST",
      headers: { authorization: basic("CA_admin", PASSWORD) },
      body: endless,
    });
    const r2 = await handler(streamed);
    assert.equal(r2.status, 413);
    assert.match(await r2.text(), /more than 65536 bytes/);
    assert.ok(sent <= MAX_CA_REQUEST_BYTES + 2 * chunk.length, `read ${sent} bytes before refusing`);
  } finally {
    await t.cleanup();
  }
});

Deno.test("CA service answers precise errors for a bad action, name or field set", async () => {
  const { t, handler } = await fixture();
  try {
    const req = await serverKeyAndRequest({ hostname: "node2" });
    const auth = basic("CA_admin", PASSWORD);
    const cases: [Record<string, string>, RegExp][] = [
      [{ action: "shutdown" }, /unknown action 'shutdown' \(expected signrequest\)/],
      [
        { action: "signrequest", name: "../../etc/x", servercsr: req.csrPem },
        /invalid certificate name '..\/..\/etc\/x'/,
      ],
      [
        { action: "signrequest", name: "s", servercsr: req.csrPem, usercsr: req.csrPem },
        /exactly one of servercsr or usercsr/,
      ],
      [{ action: "signrequest", name: "s", servercsr: "not a csr" }, /not a PEM certificate request/],
    ];
    for (const [form, want] of cases) {
      const res = await handler(post(form, auth));
      assert.equal(res.status, 400);
      assert.match(await res.text(), want);
    }
  } finally {
    await t.cleanup();
  }
});
