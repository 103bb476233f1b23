// Public face of the heartbeat layer: cluster-key authenticated UDP framing, the datagram transports and the
// membership service that runs core/membership.ts over them.
export {
  acceptSequence,
  CLUSTER_KEY_BYTES,
  DEFAULT_MAX_FRAME_BYTES,
  emptyReplayState,
  forgetSender,
  generateClusterKey,
  MIN_FRAME_BYTES,
  newBootEpoch,
  open,
  type OpenOptions,
  type OpenResult,
  type Packet,
  REJECT_REASONS,
  type RejectReason,
  REPLAY_WINDOW,
  type ReplayState,
  seal,
  type SenderWindow,
} from "./packet_auth.ts";
export {
  bareAddress,
  type DatagramTransport,
  type Endpoint,
  isIPv6,
  type ReceiveHandler,
  sameEndpoint,
} from "./transport.ts";
export { openUdpTransport, UdpTransport, type UdpTransportOptions } from "./udp_transport.ts";
export {
  decodeMembershipPayload,
  type DecodeResult,
  encodeMembershipPayload,
  MAX_PAYLOAD_BYTES,
  type WirePayload,
} from "./membership_wire.ts";
export {
  MEMBERSHIP_FRAME_KIND,
  type MembershipChange,
  type MembershipClock,
  type MembershipCluster,
  type MembershipCounters,
  type MembershipNode,
  MembershipService,
  type MembershipServiceOptions,
  systemClock,
} from "./membership_service.ts";
