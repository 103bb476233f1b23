// Virtual IPs of a running module (spec §4.6, §8). Mirror: each `one_side_alias` address is set before
// start_prim and removed after stop_prim (forced call), announced by gratuitous ARP / unsolicited NA, and
// re-announced every arpinterval during arpelapse when arpreroute is on; tcpreset resets the connections
// bound to it before it goes. Farm: every node holds the `alias` VIPs; the nftables filter accepts only
// this node's buckets (setBuckets), all closed while traffic is closed. Failures are logged and the module
// goes on: the ip checker (ip.<vip>) is what turns a missing address into an action.
import type { VipConfig } from "../config/mod.ts";
import {
  addVip,
  announceAddress,
  applyFarmFilter,
  type ArpReroute,
  farmFilterSpecFromConfig,
  farmTableName,
  type HostCommands,
  removeFarmFilter,
  removeVip,
  setFarmBuckets,
  startArpReroute,
  systemCommands,
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
    try {
      const spec = farmFilterSpecFromConfig(this.module, this.vip, (addr) => this.#ifnames.get(addr) ?? "lo");
      await applyFarmFilter(this.host, spec);
      this.#applied = true;
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
    for (const { a } of this.#aliases()) {
      await removeVip(this.host, a.addr, { tcpReset: this.vip.tcpReset })
        .then((r) => r.changed && this.log("I", `Virtual IP ${a.addr} removed`))
        .catch((e) => this.log("E", `Virtual IP ${a.addr} not removed: ${(e as Error).message}`));
    }
  }
}
