import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import {
  DEFAULT_MAX_FRAME_BYTES,
  emptyReplayState,
  forgetSender,
  generateClusterKey,
  MIN_FRAME_BYTES,
  newBootEpoch,
  open,
  type OpenResult,
  type Packet,
  type ReplayState,
  seal,
} from "../../src/heart/packet_auth.ts";
import { seededRandom } from "../sim/prng.ts";

const key = new Uint8Array(32).fill(7);
const otherKey = new Uint8Array(32).fill(8);
const allowed = { allowedSenders: new Set(["node1", "node2"]) };
const packet = (over: Partial<Packet> = {}): Packet => ({
  kind: 1,
  sender: "node1",
  epoch: 1000,
  seq: 1,
  payload: new Uint8Array([1, 2, 3]),
  ...over,
});
const reason = (r: OpenResult) => (r.ok ? "accepted" : r.reason);

/** Opens frames one after the other, threading the replay state; returns each outcome. */
function openAll(frames: Uint8Array[], state: ReplayState = emptyReplayState()): string[] {
  return frames.map((f) => {
    const r = open(key, f, state, allowed);
    if (r.ok) state = r.replayState;
    return reason(r);
  });
}

Deno.test("packet auth: a sealed frame opens to the same packet", () => {
  const r = open(key, seal(key, packet()), emptyReplayState(), allowed);
  assert.ok(r.ok);
  assert.deepEqual(r.packet, packet());
  assert.deepEqual(r.replayState.get("node1"), { epoch: 1000, top: 1, seen: 1n });
});

Deno.test("packet auth: sealing is deterministic and does not depend on hidden state", () => {
  assert.deepEqual(seal(key, packet()), seal(key, packet()));
});

Deno.test("packet auth: large epochs, sequences and payloads survive the round trip", () => {
  const big = packet({ epoch: Number.MAX_SAFE_INTEGER, seq: 2 ** 40, payload: new Uint8Array(1300).fill(9) });
  const r = open(key, seal(key, big), emptyReplayState(), allowed);
  assert.ok(r.ok);
  assert.deepEqual(r.packet, big);
});

const frame = seal(key, packet());
const withByte = (bytes: Uint8Array, at: number, value: number) => {
  const copy = bytes.slice();
  copy[at] = value;
  return copy;
};

/** A frame with a valid MAC over arbitrary content, as only a key holder could make. */
function signRaw(content: Uint8Array): Uint8Array {
  const mac = createHmac("sha256", key).update(content).digest();
  const out = new Uint8Array(content.length + 32);
  out.set(content);
  out.set(mac, content.length);
  return out;
}

const rejections: { name: string; bytes: Uint8Array; expect: string }[] = [
  {
    name: "a forged MAC",
    bytes: withByte(frame, frame.length - 1, frame[frame.length - 1] ^ 1),
    expect: "bad_mac",
  },
  { name: "a frame signed with another key", bytes: seal(otherKey, packet()), expect: "bad_mac" },
  { name: "a changed payload", bytes: withByte(frame, frame.length - 33, 99), expect: "bad_mac" },
  { name: "a changed sequence number", bytes: withByte(frame, 4 + 3 + 5 + 8 + 7, 2), expect: "bad_mac" },
  { name: "an empty datagram", bytes: new Uint8Array(0), expect: "truncated" },
  {
    name: "one byte short of the smallest frame",
    bytes: new Uint8Array(MIN_FRAME_BYTES - 1),
    expect: "truncated",
  },
  {
    name: "a datagram over 1400 bytes",
    bytes: new Uint8Array(DEFAULT_MAX_FRAME_BYTES + 1),
    expect: "oversized",
  },
  {
    name: "an oversized frame even with a valid header (size is checked first)",
    bytes: seal(key, packet({ payload: new Uint8Array(1500) }), 4000),
    expect: "oversized",
  },
  { name: "another protocol's magic", bytes: withByte(frame, 0, 0x58), expect: "bad_magic" },
  { name: "a future version", bytes: withByte(frame, 4, 2), expect: "bad_version" },
  {
    name: "a sender not in cluster.xml",
    bytes: seal(key, packet({ sender: "intruder" })),
    expect: "unknown_sender",
  },
  {
    name: "a validly signed frame whose payload length overruns it",
    bytes: signRaw(
      seal(key, packet()).subarray(0, frame.length - 32).map((b, i, a) => i === a.length - 4 ? 200 : b),
    ),
    expect: "malformed",
  },
  {
    name: "a validly signed frame whose sender name is not UTF-8",
    bytes: signRaw(
      seal(key, packet({ sender: "nodeX" })).subarray(0, frame.length - 32).map((b, i) => i === 7 ? 0xff : b),
    ),
    expect: "malformed",
  },
];

for (const r of rejections) {
  Deno.test(`packet auth: refuses ${r.name} as ${r.expect}`, () => {
    assert.equal(reason(open(key, r.bytes, emptyReplayState(), allowed)), r.expect);
  });
}

Deno.test("packet auth: a frame truncated at every length is refused", () => {
  for (let length = 0; length < frame.length; length++) {
    const got = reason(open(key, frame.subarray(0, length), emptyReplayState(), allowed));
    assert.equal(got, length < MIN_FRAME_BYTES ? "truncated" : "bad_mac", `truncated to ${length} bytes`);
  }
});

Deno.test("packet auth: flipping any single bit anywhere gets the frame refused", () => {
  for (let bit = 0; bit < frame.length * 8; bit++) {
    const flipped = withByte(frame, bit >> 3, frame[bit >> 3] ^ (1 << (bit & 7)));
    const r = open(key, flipped, emptyReplayState(), allowed);
    assert.equal(r.ok, false, `bit ${bit} flipped was accepted`);
  }
});

Deno.test("packet auth: random datagrams never throw and are never accepted", () => {
  const random = seededRandom(42);
  for (let i = 0; i < 2000; i++) {
    const bytes = new Uint8Array(Math.floor(random() * 1500)).map(() => Math.floor(random() * 256));
    if (i % 2 === 0 && bytes.length >= 5) bytes.set([0x53, 0x4b, 0x76, 0x31, 1]); // get past magic and version
    assert.equal(open(key, bytes, emptyReplayState(), allowed).ok, false);
  }
});

Deno.test("packet auth: the same frame twice is refused as replayed", () => {
  assert.deepEqual(openAll([frame, frame]), ["accepted", "replayed"]);
});

Deno.test("packet auth: reordering within the 64-sequence window is accepted once, older is replayed", () => {
  const at = (seq: number) => seal(key, packet({ seq }));
  assert.deepEqual(
    openAll([at(100), at(50), at(40), at(40), at(37), at(36), at(101), at(100), at(200), at(137), at(136)]),
    [
      "accepted",
      "accepted",
      "accepted",
      "replayed",
      "accepted", // 63 behind the top: still in the window
      "replayed", // 64 behind: too old
      "accepted",
      "replayed",
      "accepted", // a jump beyond the window clears it
      "accepted",
      "replayed",
    ],
  );
});

Deno.test("packet auth: a restarted sender (newer epoch, sequence from 0) is accepted; its old epoch is then refused", () => {
  const old = (seq: number) => seal(key, packet({ epoch: 1000, seq }));
  const restarted = (seq: number) => seal(key, packet({ epoch: 2000, seq }));
  assert.deepEqual(openAll([old(50), restarted(0), restarted(1), old(51)]), [
    "accepted",
    "accepted",
    "accepted",
    "replayed",
  ]);
});

Deno.test("packet auth: senders have separate windows", () => {
  const from = (sender: string) => seal(key, packet({ sender, seq: 5 }));
  assert.deepEqual(openAll([from("node1"), from("node2")]), ["accepted", "accepted"]);
});

Deno.test("packet auth: forgetting a sender accepts it again with a lower epoch", () => {
  let state = emptyReplayState();
  const r = open(key, seal(key, packet({ epoch: 2000 })), state, allowed);
  assert.ok(r.ok);
  state = forgetSender(r.replayState, "node1");
  assert.deepEqual(openAll([seal(key, packet({ epoch: 1000 }))], state), ["accepted"]);
});

Deno.test("packet auth: open never mutates the replay state it was given", () => {
  const state = emptyReplayState();
  open(key, frame, state, allowed);
  assert.equal(state.size, 0);
});

Deno.test("packet auth: sealing refuses a wrong key size and a frame over the limit", () => {
  assert.throws(() => seal(new Uint8Array(16), packet()), /32 bytes/);
  assert.throws(() => seal(key, packet({ payload: new Uint8Array(1400) })), /exceeds/);
  assert.throws(() => seal(key, packet({ sender: "" })), /sender/);
});

Deno.test("packet auth: a generated cluster key is 32 random bytes", () => {
  const a = generateClusterKey(), b = generateClusterKey();
  assert.equal(a.length, 32);
  assert.notDeepEqual(a, b);
});

Deno.test("packet auth: boot epochs grow with the start time whatever the random low bits", () => {
  assert.ok(newBootEpoch(1_000_001, 0) > newBootEpoch(1_000_000, 1023));
  assert.ok(Number.isSafeInteger(newBootEpoch(Date.UTC(2200, 0, 1), 1023)));
});
