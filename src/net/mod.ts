// Network drivers: virtual IPs, their announcement (gratuitous ARP / unsolicited NA) and the farm
// load-balancing filter (nftables). See docs/network.md.
export {
  type CommandResult,
  type HostCommands,
  NetCommandError,
  runChecked,
  systemCommands,
} from "./host_commands.ts";
export { canonicalIp, inSubnet, netmaskToPrefix, parseIp } from "./ip_address.ts";
export {
  findAddress,
  type IpLink,
  parseIpAddrJson,
  placeVip,
  type VipPlacement,
  VipPlacementError,
  type VipTarget,
} from "./ip_links.ts";
export { type AddressPresence, addressPresence, readLinks } from "./ip_presence.ts";
export {
  addVip,
  removeVip,
  resetConnections,
  type TcpResetResult,
  type VipChange,
  type VipRemoval,
} from "./vip_manager.ts";
export { garpFrame, type GarpMode, unsolicitedNa } from "./announce_frames.ts";
export {
  announceAddress,
  type AnnounceOptions,
  type AnnounceResult,
  type ArpReroute,
  arpRerouteSchedule,
  startArpReroute,
} from "./garp.ts";
export {
  bucketElements,
  bucketSetName,
  bucketUpdate,
  checksumCompensation,
  criterionHash,
  defaultVirtualMac,
  FarmFilterError,
  type FarmFilterGroup,
  type FarmFilterInterface,
  type FarmFilterSpec,
  farmFilterSpecFromConfig,
  farmRuleset,
  farmTableName,
  HASH_SEED,
  ndRewriteLine,
  removeFarmRuleset,
} from "./nft_farm_filter.ts";
export { applyFarmFilter, removeFarmFilter, setFarmBuckets } from "./farm_filter_driver.ts";
export {
  acceptVirtualMac,
  deviceUnicastAddresses,
  isPromiscuous,
  type MacAcceptance,
  MacAcceptanceError,
  promiscuousFromIpLinkJson,
  releaseVirtualMac,
  unicastFilterArgs,
} from "./virtual_mac_acceptance.ts";
export {
  connectionsResourceName,
  connectionsSsArgs,
  countConnections,
  vipConnections,
} from "./vip_connections.ts";
