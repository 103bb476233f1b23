// The handshake and the authenticated stream against a real secondary server on loopback: only a peer
// holding the cluster key gets in, a recorded session cannot be replayed, and a bad frame closes the
// connection before anything is applied.
import assert from "node:assert/strict";
import { join } from "node:path";
import { HandshakeError } from "../../../src/rfs/protocol/session_open.ts";
import type { ByteStream } from "../../../src/rfs/protocol/frame_channel.ts";
import { sealFrame } from "../../../src/rfs/protocol/frame_codec.ts";
import { decodeMessage, encodeMessage, MESSAGE_TYPES } from "../../../src/rfs/protocol/messages.ts";
import { createHmac } from "node:crypto";
import type { ReplicationSession } from "../../../src/rfs/replication_server.ts";
import {
  CLUSTER_KEY,
  delay,
  HOST,
  primaryClient,
  roots,
  startSecondary,
  tempDirs,
} from "./loopback_fixture.ts";

const exists = (p: string) => Deno.lstat(p).then(() => true, () => false);
const createOp = (path: string) => ({
  kind: "create" as const,
  path,
  mode: 0o644,
  uid: 0,
  gid: 0,
  exclusive: false,
  truncate: false,
});

function dialer(port: number, record?: Uint8Array[]) {
  let conn: Deno.TcpConn | null = null;
  const dial = async (): Promise<ByteStream> => {
    conn = await Deno.connect({ hostname: HOST, port });
    const c = conn;
    return {
      read: (p) => c.read(p),
      write: (p) => {
        record?.push(p.slice());
        return c.write(p);
      },
      close: () => c.close(),
    };
  };
  return { dial, raw: () => conn! };
}

Deno.test("session: a primary with the cluster key gets in; its ops are applied once the session is synced", async () => {
  const { dirs: [prim, sec], cleanup } = await tempDirs(2);
  const sessions: ReplicationSession[] = [];
  const server = await startSecondary([sec], { onSession: (s) => (s.markSynced(), sessions.push(s)) });
  const r = roots([prim]);
  const client = primaryClient(server, r);
  try {
    await client.connect();
    assert.equal(client.state, "connected");
    await client.apply(createOp("hello"));
    assert.ok(await exists(join(sec, "hello")));
    assert.deepEqual(sessions.map((s) => [s.hello.node, s.hello.module, s.ready.async]), [[
      "node1",
      "mirror",
      "none",
    ]]);
  } finally {
    await client.close();
    await server.close();
    r.forEach((x) => x.close());
    await cleanup();
  }
});

Deno.test("session: a wrong cluster key, an unknown node or another module are refused with the reason", async () => {
  const { dirs: [prim, sec], cleanup } = await tempDirs(2);
  const server = await startSecondary([sec]);
  const r = roots([prim]);
  try {
    const wrongKey = primaryClient(server, r, { clusterKey: new Uint8Array(32).fill(1) });
    await assert.rejects(wrongKey.connect(), (e: Error) => {
      assert.ok(e instanceof HandshakeError);
      assert.match(e.message, /closed the connection \(a different cluster key/);
      return true;
    });
    assert.equal(wrongKey.state, "idle");
    await assert.rejects(
      primaryClient(server, r, { node: "intruder" }).connect(),
      /node "intruder" is not this module's peer/,
    );
    await assert.rejects(
      primaryClient(server, r, { module: "other" }).connect(),
      /module "other" is not replicated here/,
    );
    await assert.rejects(
      primaryClient(server, [...r, ...r]).connect(),
      /the primary replicates 2 directories, this node has 1 \(configurations differ\)/,
    );
    assert.equal(server.session, null);
  } finally {
    await server.close();
    r.forEach((x) => x.close());
    await cleanup();
  }
});

Deno.test("session: a recorded session replayed byte for byte is refused and applies nothing", async () => {
  const { dirs: [prim, sec], cleanup } = await tempDirs(2);
  let sessions = 0;
  const server = await startSecondary([sec], { onSession: (s) => (s.markSynced(), sessions++) });
  const r = roots([prim]);
  const recorded: Uint8Array[] = [];
  const { dial } = dialer(server.port, recorded);
  const client = primaryClient(server, r, { dial });
  try {
    await client.connect();
    await client.apply(createOp("first"));
    await client.close();
    await Deno.remove(join(sec, "first"));
    // Replay: hello (accepted: it proves nothing), then ready + op under the old session key.
    const conn = await Deno.connect({ hostname: HOST, port: server.port });
    for (const b of recorded) await conn.write(b).catch(() => 0);
    const buf = new Uint8Array(4096);
    while ((await conn.read(buf).catch(() => null)) !== null) { /* until the server closes */ }
    conn.close();
    assert.equal(await exists(join(sec, "first")), false);
    assert.equal(sessions, 1);
  } finally {
    await server.close();
    r.forEach((x) => x.close());
    await cleanup();
  }
});

Deno.test("session: a frame with a bad MAC inside a session closes it; the op is not applied and the primary goes alone", async () => {
  const { dirs: [prim, sec], cleanup } = await tempDirs(2);
  const server = await startSecondary([sec], { onSession: (s) => s.markSynced() });
  const r = roots([prim]);
  const { dial, raw } = dialer(server.port);
  const lost: string[] = [];
  const client = primaryClient(server, r, { dial, onSecondaryLost: (why) => lost.push(why) });
  try {
    await client.connect();
    const { type, payload } = encodeMessage({ type: "op", opId: 1, dir: 0, op: createOp("evil") });
    await raw().write(sealFrame(new Uint8Array(32).fill(9), { type, seq: 2, payload }));
    for (let i = 0; i < 100 && lost.length === 0; i++) await delay(20);
    assert.equal(lost.length, 1);
    assert.match(lost[0], /closed/);
    assert.equal(client.state, "lost");
    assert.equal(await exists(join(sec, "evil")), false);
    await client.apply(createOp("alone")); // resolves at once: ALONE
    assert.equal(client.needsResync, true);
  } finally {
    await client.close();
    await server.close();
    r.forEach((x) => x.close());
    await cleanup();
  }
});

/** A frame of protocol version 1 (HMAC-SHA256 under that version's handshake key), as a primary of the previous release sends it. */
function v1Frame(type: number, seq: number, payload: Uint8Array): Uint8Array {
  const kh = createHmac("sha256", CLUSTER_KEY).update("safekit-rfs/v1/handshake").digest();
  const header = new Uint8Array(20);
  header.set(new TextEncoder().encode("SKRP"));
  header[4] = 1;
  header[5] = type;
  new DataView(header.buffer).setBigUint64(8, BigInt(seq));
  new DataView(header.buffer).setUint32(16, payload.length);
  const mac = createHmac("sha256", kh).update(header).update(payload).digest();
  return new Uint8Array([...header, ...payload, ...mac]);
}

Deno.test("session: a primary of protocol version 1 gets a version-1 error frame that names both versions", async () => {
  const { dirs: [sec], cleanup } = await tempDirs(1);
  const server = await startSecondary([sec]);
  try {
    const hello = encodeMessage({
      type: "hello",
      nonce: new Uint8Array(32),
      node: "node1",
      module: "mirror",
      dirCount: 1,
    });
    const conn = await Deno.connect({ hostname: HOST, port: server.port });
    await conn.write(v1Frame(hello.type, 0, hello.payload));
    const got: number[] = [];
    const buf = new Uint8Array(4096);
    for (
      let n = await conn.read(buf).catch(() => null);
      n !== null;
      n = await conn.read(buf).catch(() => null)
    ) {
      got.push(...buf.subarray(0, n));
    }
    conn.close();
    const bytes = new Uint8Array(got);
    assert.equal(bytes[4], 1, "answered in version 1");
    assert.equal(bytes[5], MESSAGE_TYPES.error);
    const len = new DataView(bytes.buffer).getUint32(16);
    assert.equal(bytes.length, 20 + len + 32, "one frame, then the close");
    assert.deepEqual(
      bytes,
      v1Frame(MESSAGE_TYPES.error, 0, bytes.subarray(20, 20 + len)),
      "its MAC verifies in v1",
    );
    const m = decodeMessage(MESSAGE_TYPES.error, bytes.subarray(20, 20 + len));
    assert.ok(m.type === "error");
    assert.match(
      m.reason,
      /this secondary speaks replication protocol version 2, the primary version 1: upgrade/,
    );
    assert.equal(server.session, null);
  } finally {
    await server.close();
    await cleanup();
  }
});

Deno.test("session: a secondary that closes at the first frame (an older release) is named as a possible cause", async () => {
  const { dirs: [prim], cleanup } = await tempDirs(1);
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const serving = (async () => {
    const c = await listener.accept();
    await c.read(new Uint8Array(4096)).catch(() => null);
    c.close();
  })();
  const r = roots([prim]);
  try {
    const fake = { port: listener.addr.port } as unknown as Parameters<typeof primaryClient>[0];
    await assert.rejects(
      primaryClient(fake, r).connect(),
      /closed the connection \(.*a node of an older release/,
    );
  } finally {
    await serving;
    listener.close();
    r.forEach((x) => x.close());
    await cleanup();
  }
});
