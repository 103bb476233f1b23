// The ports a module uses, by module id (spec §1.2), as `safekit module getports` lists them.
import { farmPort, heartPort, type ModuleConfig, rfsPort } from "../config/mod.ts";

export type PortEntry = { process: string; name: string; proto: "UDP" | "TCP"; port: number };

export function modulePorts(
  id: number,
  mode: string,
  cfg: ModuleConfig | null,
  clusterPort: number,
  webPort: number,
): PortEntry[] {
  const ports: PortEntry[] = [
    { process: "safeadmin", name: "port", proto: "UDP", port: clusterPort },
    { process: "webconsole", name: "port", proto: "TCP", port: webPort },
  ];
  if (mode === "mirror") {
    ports.push({ process: "heart", name: "port", proto: "UDP", port: heartPort(id, cfg?.heart?.port) });
    ports.push({ process: "rfs", name: "safenfs_port", proto: "TCP", port: rfsPort(id) });
  } else if (mode === "farm") {
    ports.push({ process: "farm", name: "port", proto: "UDP", port: farmPort(id, cfg?.farm?.port) });
  }
  return ports;
}
