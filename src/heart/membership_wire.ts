// The membership pulse's payload on the wire: small UTF-8 JSON, bounded and strictly validated, because it
// is network input (even authenticated, a peer may run another release or have a bug).
//
//   {"v":1,"lan":"lan1","to":"node2","view":["node1","node2"],"leader":"node1"}
//
// `lan` and `to` bind the pulse to the lan and the node it was sent to, inside the MAC: a captured pulse
// replayed on another lan or towards another node is refused instead of faking a link that is down.
import type { MembershipPayload } from "../core/membership.ts";

export const WIRE_VERSION = 1;
export const MAX_PAYLOAD_BYTES = 1200;
export const MAX_VIEW_NODES = 64;
const MAX_NAME_CHARS = 255;

export type WirePayload = MembershipPayload & { readonly lan: string; readonly to: string };

export type DecodeResult =
  | { readonly ok: true; readonly payload: WirePayload }
  | { readonly ok: false; readonly reason: string };

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });
const FIELDS = ["v", "lan", "to", "view", "leader"];

export function encodeMembershipPayload(p: WirePayload): Uint8Array {
  const bytes = encoder.encode(
    JSON.stringify({ v: WIRE_VERSION, lan: p.lan, to: p.to, view: p.view, leader: p.leader }),
  );
  if (bytes.length > MAX_PAYLOAD_BYTES) throw new RangeError(`membership payload of ${bytes.length} bytes`);
  return bytes;
}

/** Never throws: any malformed input gives `{ ok: false, reason }`. */
export function decodeMembershipPayload(bytes: Uint8Array): DecodeResult {
  const fail = (reason: string): DecodeResult => ({ ok: false, reason });
  if (bytes.length > MAX_PAYLOAD_BYTES) return fail("too_long");
  let value: unknown;
  try {
    value = JSON.parse(strictDecoder.decode(bytes));
  } catch (error) {
    return fail(error instanceof SyntaxError ? "not_json" : "not_utf8");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return fail("not_object");
  const o = value as Record<string, unknown>;
  if (o.v !== WIRE_VERSION) return fail("bad_version");
  for (const key of Object.keys(o)) if (!FIELDS.includes(key)) return fail(`unexpected_field:${key}`);
  if (!isName(o.lan)) return fail("bad_field:lan");
  if (!isName(o.to)) return fail("bad_field:to");
  const view = o.view;
  if (!Array.isArray(view) || view.length === 0 || view.length > MAX_VIEW_NODES || !view.every(isName)) {
    return fail("bad_field:view");
  }
  // Sorted and unique, as every encoder produces it: anything else is a bug worth seeing, not fixing up.
  for (let i = 1; i < view.length; i++) if (!(view[i - 1] < view[i])) return fail("bad_field:view");
  if (o.leader !== null && !(isName(o.leader) && view.includes(o.leader))) return fail("bad_field:leader");
  return {
    ok: true,
    payload: { lan: o.lan, to: o.to, view: view as string[], leader: o.leader as string | null },
  };
}

function isName(v: unknown): v is string {
  if (typeof v !== "string" || v.length === 0 || v.length > MAX_NAME_CHARS) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return false; // control characters would garble logs and displays
  }
  return true;
}
