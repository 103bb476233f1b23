// The valid pieces every hostile archive is built around, so each test differs from a good
// module by exactly the one thing it checks.

import type { ForgedEntry } from "./zip_forge.ts";

export const encode = (s: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(s);

export const USERCONFIG = `<?xml version="1.0"?>\n<safe>\n  <service mode="mirror"/>\n</safe>\n`;
export const START_PRIM = "#!/bin/sh\necho starting\n";

export const goodEntries: readonly ForgedEntry[] = [
  { name: "bin/" },
  { name: "bin/start_prim", data: encode(START_PRIM), unixMode: 0o100755, deflate: true },
  { name: "conf/" },
  { name: "conf/userconfig.xml", data: encode(USERCONFIG), deflate: true },
];
