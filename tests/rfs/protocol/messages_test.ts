import assert from "node:assert/strict";
import { decodeMessage, encodeMessage, type Message } from "../../../src/rfs/protocol/messages.ts";
import { FrameError } from "../../../src/rfs/protocol/frame_codec.ts";
import { encodeTreeOp } from "../../../src/rfs/tree_op.ts";

const entry = {
  name: "a.txt",
  type: "file" as const,
  mode: 0o100644,
  uid: 1000,
  gid: 1000,
  size: 12,
  mtimeSec: 1_700_000_000,
  mtimeNsec: 5,
  rdev: 0,
};

const messages: Message[] = [
  { type: "hello", nonce: new Uint8Array(32).fill(1), node: "node1", module: "mirror", dirCount: 2 },
  { type: "challenge", nonce: new Uint8Array(32).fill(2), proof: new Uint8Array(32).fill(3) },
  { type: "ready", async: "none", dropped: true },
  { type: "welcome" },
  {
    type: "op",
    opId: 42,
    dir: 1,
    op: { kind: "write", path: "d/f", offset: 7, data: new Uint8Array([1, 2]) },
  },
  { type: "ack", opId: 42 },
  { type: "ping", nonce: 9 },
  { type: "pong", nonce: 9 },
  { type: "error", reason: "apply failed" },
  { type: "reiRequest", reqId: 3, kind: "read", dir: 0, path: "d/f", offset: 8388608, length: 8388608 },
  { type: "reiReply", reqId: 3, errno: 2 },
  {
    type: "reiReply",
    reqId: 4,
    errno: 0,
    entries: [entry, { ...entry, name: "l", type: "symlink", target: "a.txt" }],
  },
  { type: "reiReply", reqId: 5, errno: 0, entry },
  { type: "reiReply", reqId: 6, errno: 0, entry, data: new Uint8Array([5, 6, 7]) },
  { type: "synced" },
];

for (const [i, m] of messages.entries()) {
  Deno.test(`messages: #${i} ${m.type} round-trips`, () => {
    const { type, payload } = encodeMessage(m);
    assert.deepEqual(decodeMessage(type, payload), m);
  });
}

function malformed(type: number, payload: Uint8Array, message: RegExp) {
  assert.throws(() => decodeMessage(type, payload), (e: unknown) => {
    assert.ok(e instanceof FrameError);
    assert.equal(e.code, "malformed");
    assert.match(e.message, message);
    return true;
  });
}

Deno.test("messages: a payload cut short names the field it was reading", () => {
  const { type, payload } = encodeMessage(messages[0]);
  malformed(type, payload.subarray(0, payload.length - 1), /hello\.dirs: 2 bytes needed/);
});

Deno.test("messages: trailing bytes, unknown types and unknown codes are refused", () => {
  const { type, payload } = encodeMessage({ type: "ack", opId: 1 });
  malformed(type, new Uint8Array([...payload, 0]), /ack: 1 unexpected trailing bytes/);
  malformed(99, new Uint8Array(), /unknown message type 99/);
  const req = encodeMessage(messages[9]);
  const bad = req.payload.slice();
  bad[4] = 7;
  malformed(req.type, bad, /reiRequest\.kind: unknown code 7/);
});

Deno.test("messages: an op whose path leaves the root is refused with the tree op's reason", () => {
  const good = encodeTreeOp({ kind: "unlink", path: "ab" });
  // Same length, so only the path validation can refuse it.
  const evil = good.slice();
  evil.set(new TextEncoder().encode(".."), evil.length - 2);
  const head = new Uint8Array(10); // opId u64 + dir u16
  malformed(5, new Uint8Array([...head, ...evil]), /op: tree path "\.\.": component "\.\." is not allowed/);
});

Deno.test("messages: a read request above 8 MiB and an entry named '..' are refused", () => {
  const r = encodeMessage({ ...messages[9], length: 8 << 20 } as Message);
  const dv = new DataView(r.payload.buffer);
  dv.setUint32(r.payload.length - 4, (8 << 20) + 1);
  malformed(r.type, r.payload, /reiRequest\.length: 8388609 exceeds 8388608/);
  const l = encodeMessage({ type: "reiReply", reqId: 1, errno: 0, entry: { ...entry, name: ".." } });
  malformed(l.type, l.payload, /entry\.name: "\.\." is not a file name/);
});
