// The replication protocol between the primary and the secondary: authenticated frames, the handshake,
// the messages. See docs/replication.md.

export {
  DEFAULT_MAX_PAYLOAD_BYTES,
  type Frame,
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
