// What a node of this release answers a primary that speaks replication protocol version 1 (HMAC-SHA256 on
// every frame, before 2026-11-29): one version-1 `error` frame under that version's handshake key, which
// the old primary verifies and reports ("the secondary refused the connection: ..."), instead of a bare
// close that it would blame on the cluster key. Only a refusal is ever sent in version 1.
import { createHmac } from "node:crypto";
import { FRAME_HEADER_BYTES, FRAME_MAGIC } from "./frame_codec.ts";
import { encodeMessage } from "./messages.ts";

export const LEGACY_FRAME_VERSION = 1;

/** The bytes of a version-1 `error` frame with sequence 0 (the first frame a secondary sends). */
export function legacyRefusalFrame(clusterKey: Uint8Array, reason: string): Uint8Array {
  const handshakeKeyV1 = createHmac("sha256", clusterKey).update("safekit-rfs/v1/handshake").digest();
  const { type, payload } = encodeMessage({ type: "error", reason });
  const header = new Uint8Array(FRAME_HEADER_BYTES);
  header.set(FRAME_MAGIC);
  header[4] = LEGACY_FRAME_VERSION;
  header[5] = type;
  new DataView(header.buffer).setUint32(16, payload.length); // sequence 0: bytes 8-15 stay zero
  const mac = createHmac("sha256", handshakeKeyV1).update(header).update(payload).digest();
  const out = new Uint8Array(header.length + payload.length + mac.length);
  out.set(header);
  out.set(payload, header.length);
  out.set(mac, header.length + payload.length);
  return out;
}
