// Virtual IPs of a running module (spec §4.6, §8). Mirror: each `one_side_alias` address is set before
// start_prim and removed after stop_prim (forced call), announced by gratuitous ARP / unsolicited NA, and
// re-announced every arpinterval during arpelapse when arpreroute is on; tcpreset resets the connections
// bound to it before it goes. Farm: every node holds the `alias` VIPs; the nftables filter accepts only
// this node's buckets (setBuckets), all closed while traffic is closed. Failures are logged and the module
// goes on: the ip checker (ip.<vip>) is what turns a missing address into an action.
import type { VipConfig } from "../config/mod.ts";
import {
  acceptVirtualMac,
  addVip,
  announceAddress,
  applyFarmFilter,
  type ArpReroute,
  connectionsResourceName,
  farmFilterSpecFromConfig,
  farmTableName,
  type HostCommands,
  type MacAcceptance,
  readLinks,
  releaseVirtualMac,
  removeFarmFilter,
  removeVip,
  setFarmBuckets,
  startArpReroute,
  systemCommands,
  vipConnections,
} from "../net/mod.ts";

type Log = (level: "E" | "I" | "C", message: string) => void;

export class MirrorVips {
  #reroutes: ArpReroute[] = [];
  #up = false;

  constructor(
    private readonly vip: VipConfig,
    private readonly log: Log,
    private readonly host: HostCommands = systemCommands(),
  ) {}

  #targets() {
    return this.vip.interfaces.flatMap((itf) =>
      itf.virtualAddrs.filter((a) => a.where !== "alias").map((a) => ({ itf, a }))
    );
  }

  /** Before start_prim: the application may bind the address at once. */
  async up(): Promise<void> {
    if (this.#up) return;
    this.#up = true;
    for (const { itf, a } of this.#targets()) {
      try {
        const { placement } = await addVip(this.host, {
          addr: a.addr,
          netmask: a.netmask,
          interfaceName: itf.name,
        });
        if (!placement) throw new Error("no interface holds it after adding it");
        this.log("I", `Virtual IP ${a.addr} set`);
        // The first announcement before start_prim; a repeat in the background covers a lost frame.
        const announce = () =>
          announceAddress({ ifname: placement.ifname, addr: a.addr, netns: this.host.netns })
            .catch((e) =>
              this.log("E", `Virtual IP ${a.addr}: announcement failed: ${(e as Error).message}`)
            );
        await announce();
        setTimeout(announce, 200);
        if (itf.arpReroute) {
          this.#reroutes.push(startArpReroute(
            {
              ifname: placement.ifname,
              addr: a.addr,
              intervalMs: itf.arpIntervalMs,
              elapseMs: itf.arpElapseMs,
              netns: this.host.netns,
            },
            (e) => this.log("E", `arpreroute ${a.addr}: ${e.message}`),
          ));
        }
      } catch (e) {
        this.log("C", `Virtual IP ${a.addr} not set: ${(e as Error).message}`);
      }
    }
  }

  /** After the forced stop_prim call: the address goes, its connections reset first when tcpreset is on. */
  async down(): Promise<void> {
    if (!this.#up) return;
    this.#up = false;
    for (const r of this.#reroutes.splice(0)) r.stop();
    for (const { a } of this.#targets()) {
      try {
        const r = await removeVip(this.host, a.addr, { tcpReset: this.vip.tcpReset });
        if (r.changed) this.log("I", `Virtual IP ${a.addr} removed`);
        if (r.tcpReset && r.tcpReset.remaining > 0) {
          this.log("E", `Virtual IP ${a.addr}: ${r.tcpReset.remaining} connection(s) could not be reset`);
        }
      } catch (e) {
        this.log("E", `Virtual IP ${a.addr} not removed: ${(e as Error).message}`);
      }
    }
  }
}

export class FarmVips {
  #applied = false;
  #buckets = new Map<string, readonly number[]>();
  #open = false;
  #ifnames = new Map<string, string>();
  #accepted: MacAcceptance[] = [];

  constructor(
    private readonly module: string,
    private readonly vip: VipConfig,
    private readonly log: Log,
    private readonly host: HostCommands = systemCommands(),
  ) {}

  #aliases() {
    return this.vip.interfaces.flatMap((itf) =>
      itf.virtualAddrs.filter((a) => a.where === "alias").map((a) => ({ itf, a }))
    );
  }

  /** openTraffic: the VIPs and the filter are in place; this node's buckets accepted. */
  async open(): Promise<void> {
    this.#open = true;
    if (!this.#applied) await this.#apply();
    await this.#pushBuckets();
  }

  /** closeTraffic: every bucket refused (the VIPs stay, so neighbours keep the path). */
  async close(): Promise<void> {
    this.#open = false;
    await this.#pushBuckets();
  }

  async setBuckets(group: string, buckets: readonly number[]): Promise<void> {
    this.#buckets.set(group, buckets);
    if (this.#open) await this.#pushBuckets();
  }

  async #apply(): Promise<void> {
    for (const { itf, a } of this.#aliases()) {
      try {
        const { placement } = await addVip(this.host, {
          addr: a.addr,
          netmask: a.netmask,
          interfaceName: itf.name,
        });
        if (placement) this.#ifnames.set(a.addr, placement.ifname);
        this.log("I", `Virtual IP ${a.addr} set`);
      } catch (e) {
        this.log("C", `Virtual IP ${a.addr} not set: ${(e as Error).message}`);
      }
    }
    // the devices' own MACs: IPv6 neighbour advertisements are rewritten from them to the virtual MAC
    const macs = new Map<string, string>();
    try {
      for (const l of await readLinks(this.host)) if (l.mac) macs.set(l.ifname, l.mac);
    } catch (e) {
      this.log("E", `cannot read the interfaces' MACs: ${(e as Error).message}`);
    }
    try {
      const spec = farmFilterSpecFromConfig(
        this.module,
        this.vip,
        (addr) => this.#ifnames.get(addr) ?? "lo",
        () => [],
        (device) => macs.get(device),
      );
      await applyFarmFilter(this.host, spec);
      this.#applied = true;
      for (const i of spec.interfaces) {
        if (
          i.device === "lo" || this.#accepted.some((a) => a.device === i.device && a.mac === i.virtualMac)
        ) continue;
        await acceptVirtualMac(this.host, i.device, i.virtualMac)
          .then((a) => {
            this.#accepted.push(a);
            this.log("I", `${i.device} accepts the virtual MAC ${a.mac} (${a.how})`);
          })
          .catch((e) => this.log("E", `${i.device} cannot accept the virtual MAC: ${(e as Error).message}`));
      }
      for (const i of spec.interfaces) {
        for (const v of i.vips) {
          await announceAddress({
            ifname: i.device,
            addr: v,
            advertisedMac: i.virtualMac,
            netns: this.host.netns,
          })
            .catch((e) => this.log("E", `Virtual IP ${v}: announcement failed: ${(e as Error).message}`));
        }
      }
    } catch (e) {
      this.log("C", `load-balancing filter not applied: ${(e as Error).message}`);
    }
  }

  async #pushBuckets(): Promise<void> {
    if (!this.#applied) return;
    const table = farmTableName(this.module);
    for (const [i, g] of this.vip.loadBalancing.entries()) {
      const buckets = this.#open ? this.#buckets.get(g.name) ?? [] : [];
      await setFarmBuckets(this.host, table, i, buckets)
        .catch((e) => this.log("E", `load-balancing filter (group ${g.name}): ${(e as Error).message}`));
    }
  }

  /** After stop_both: the filter and the VIPs go. */
  async remove(): Promise<void> {
    this.#open = false;
    if (this.#applied) {
      await removeFarmFilter(this.host, farmTableName(this.module))
        .catch((e) => this.log("E", `load-balancing filter not removed: ${(e as Error).message}`));
      this.#applied = false;
    }
    for (const a of this.#accepted.splice(0)) {
      await releaseVirtualMac(this.host, a)
        .catch((e) => this.log("E", `${a.device}: ${(e as Error).message}`));
    }
    for (const { a } of this.#aliases()) {
      await removeVip(this.host, a.addr, { tcpReset: this.vip.tcpReset })
        .then((r) => r.changed && this.log("I", `Virtual IP ${a.addr} removed`))
        .catch((e) => this.log("E", `Virtual IP ${a.addr} not removed: ${(e as Error).message}`));
    }
  }
}

/**
 * virtual_addr@connections="on" (spec §4.6): every 10 s, the established TCP connections this node holds
 * on each such VIP go into the resource `connections.<vip>` (mirror and farm alike; 0 while the VIP is
 * elsewhere). A failed count is logged once per failure streak and leaves the last value.
 */
export class VipConnectionCounter {
  static readonly INTERVAL_MS = 10_000;
  #timer: ReturnType<typeof setInterval> | undefined;
  #failing = new Set<string>();
  #running: Promise<void> = Promise.resolve();

  constructor(
    private readonly vip: VipConfig,
    private readonly setResource: (name: string, value: string) => void,
    private readonly log: Log,
    private readonly host: HostCommands = systemCommands(),
  ) {}

  /** the VIPs with connections="on" */
  get addresses(): string[] {
    return this.vip.interfaces.flatMap((i) => i.virtualAddrs.filter((a) => a.connections).map((a) => a.addr));
  }

  start(intervalMs = VipConnectionCounter.INTERVAL_MS): void {
    if (this.#timer !== undefined || this.addresses.length === 0) return;
    this.#running = this.countNow();
    this.#timer = setInterval(() => {
      this.#running = this.#running.then(() => this.countNow());
    }, intervalMs);
  }

  async countNow(): Promise<void> {
    for (const addr of this.addresses) {
      try {
        this.setResource(connectionsResourceName(addr), String(await vipConnections(this.host, addr)));
        this.#failing.delete(addr);
      } catch (e) {
        if (!this.#failing.has(addr)) this.log("E", `connections.${addr}: ${(e as Error).message}`);
        this.#failing.add(addr);
      }
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
