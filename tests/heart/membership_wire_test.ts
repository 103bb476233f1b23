import assert from "node:assert/strict";
import {
  decodeMembershipPayload,
  encodeMembershipPayload,
  type WirePayload,
} from "../../src/heart/membership_wire.ts";
import { seededRandom } from "../sim/prng.ts";

const good: WirePayload = { lan: "lan1", to: "node2", view: ["node1", "node2"], leader: "node1" };
const text = (s: string) => new TextEncoder().encode(s);

Deno.test("membership wire: a payload round-trips", () => {
  assert.deepEqual(decodeMembershipPayload(encodeMembershipPayload(good)), { ok: true, payload: good });
  const noLeader = { ...good, leader: null };
  assert.deepEqual(decodeMembershipPayload(encodeMembershipPayload(noLeader)), {
    ok: true,
    payload: noLeader,
  });
});

const bad: [string, Uint8Array, string][] = [
  ["too long", new Uint8Array(1201), "too_long"],
  ["not UTF-8", new Uint8Array([0xff, 0xfe]), "not_utf8"],
  ["not JSON", text("{view"), "not_json"],
  ["an array", text("[1]"), "not_object"],
  ["null", text("null"), "not_object"],
  ["another version", text(`{"v":2,"lan":"l","to":"n","view":["n"],"leader":null}`), "bad_version"],
  [
    "an extra field",
    text(`{"v":1,"lan":"l","to":"n","view":["n"],"leader":null,"x":1}`),
    "unexpected_field:x",
  ],
  ["a missing lan", text(`{"v":1,"to":"n","view":["n"],"leader":null}`), "bad_field:lan"],
  ["an empty destination", text(`{"v":1,"lan":"l","to":"","view":["n"],"leader":null}`), "bad_field:to"],
  ["an empty view", text(`{"v":1,"lan":"l","to":"n","view":[],"leader":null}`), "bad_field:view"],
  ["an unsorted view", text(`{"v":1,"lan":"l","to":"n","view":["b","a"],"leader":null}`), "bad_field:view"],
  [
    "a duplicate in the view",
    text(`{"v":1,"lan":"l","to":"n","view":["a","a"],"leader":null}`),
    "bad_field:view",
  ],
  ["a number in the view", text(`{"v":1,"lan":"l","to":"n","view":[1],"leader":null}`), "bad_field:view"],
  [
    "a control character in a name",
    text(`{"v":1,"lan":"l","to":"n","view":["a\\n"],"leader":null}`),
    "bad_field:view",
  ],
  [
    "a leader outside the view",
    text(`{"v":1,"lan":"l","to":"n","view":["a"],"leader":"b"}`),
    "bad_field:leader",
  ],
  ["a missing leader", text(`{"v":1,"lan":"l","to":"n","view":["a"]}`), "bad_field:leader"],
  [
    "65 nodes in the view",
    text(
      JSON.stringify({
        v: 1,
        lan: "l",
        to: "n",
        view: Array.from({ length: 65 }, (_, i) => `n${1000 + i}`),
        leader: null,
      }),
    ),
    "bad_field:view",
  ],
];

for (const [name, bytes, reason] of bad) {
  Deno.test(`membership wire: rejects ${name} as ${reason}`, () => {
    assert.deepEqual(decodeMembershipPayload(bytes), { ok: false, reason });
  });
}

Deno.test("membership wire: random bytes and mutated payloads never throw", () => {
  const random = seededRandom(3);
  const base = encodeMembershipPayload(good);
  for (let i = 0; i < 3000; i++) {
    const bytes = i % 2 === 0
      ? new Uint8Array(Math.floor(random() * 200)).map(() => Math.floor(random() * 256))
      : base.map((b) => (random() < 0.05 ? Math.floor(random() * 256) : b));
    const r = decodeMembershipPayload(bytes);
    if (r.ok) assert.ok(r.payload.view.length > 0);
  }
});
