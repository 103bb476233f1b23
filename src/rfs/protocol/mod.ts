// The replication protocol between the primary and the secondary: authenticated frames, the handshake,
// the messages. See docs/replication.md.

export { type FrameAuth, type FrameAuthAlgorithm, hmacFrameAuth, poly1305FrameAuth } from "./frame_auth.ts";
export {
  DEFAULT_MAX_PAYLOAD_BYTES,
  DIRECT_PAYLOAD_BYTES,
  type Frame,
  FRAME_VERSION,
  FrameDecoder,
  FrameError,
  type FrameErrorCode,
  sealFrame,
} from "./frame_codec.ts";
export { type ByteStream, ChannelClosedError, FrameChannel } from "./frame_channel.ts";
export { CLUSTER_KEY_BYTES, handshakeKey, sessionKeys } from "./handshake.ts";
export {
  decodeMessage,
  encodeMessage,
  MAX_READ_BYTES,
  type Message,
  MESSAGE_TYPES,
  type ReiRequestKind,
} from "./messages.ts";
export {
  acceptServerSession,
  HandshakeError,
  type HelloInfo,
  openClientSession,
  type ReadyInfo,
} from "./session_open.ts";
