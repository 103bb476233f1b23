// The ports a module uses, by module id (spec §1.2): `safekit module getports`.
import type { ModuleConfig } from "../config/mod.ts";

export type PortEntry = { process: string; name: string; proto: "UDP" | "TCP"; port: number };

export function modulePorts(id: number, mode: string, cfg: ModuleConfig | null, clusterPort: number, webPort: number) {
  const ports: PortEntry[] = [
    { process: "safeadmin", name: "port", proto: "UDP", port: clusterPort },
    { process: "webconsole", name: "port", proto: "TCP", port: webPort },
  ];
  if (mode === "mirror") {
    ports.push({ process: "heart", name: "port", proto: "UDP", port: cfg?.heart?.port ?? 8888 + (id - 1) });
    ports.push({ process: "rfs", name: "safenfs_port", proto: "TCP", port: 5600 + (id - 1) * 4 });
  } else if (mode === "farm") {
    ports.push({ process: "farm", name: "port", proto: "UDP", port: cfg?.farm?.port ?? 4803 + (id - 1) * 3 });
  }
  return ports;
}
