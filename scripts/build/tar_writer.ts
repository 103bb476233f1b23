// Writes a ustar archive of regular files in memory. Written here rather than shelling out to `tar` so the
// payload (and so its hash, which names the runtime cache dir) is byte-identical for the same inputs on any
// build host: fixed order, owner root, mtime 0.

export type TarEntry = { readonly name: string; readonly mode: number; readonly data: Uint8Array };

const BLOCK = 512;

function octal(value: number, width: number): string {
  // width includes the terminating NUL.
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

function header(entry: TarEntry): Uint8Array {
  const name = new TextEncoder().encode(entry.name);
  if (name.length === 0 || name.length > 100) {
    throw new Error(`tar: entry name '${entry.name}' must be 1..100 bytes`);
  }
  if (entry.data.length > 0o77777777777) throw new Error(`tar: entry '${entry.name}' is larger than 8 GiB`);
  const h = new Uint8Array(BLOCK);
  const put = (offset: number, text: string) => h.set(new TextEncoder().encode(text), offset);
  h.set(name, 0);
  put(100, octal(entry.mode & 0o7777, 8));
  put(108, octal(0, 8)); // uid
  put(116, octal(0, 8)); // gid
  put(124, octal(entry.data.length, 12));
  put(136, octal(0, 12)); // mtime
  put(148, "        "); // checksum field counts as spaces while summing
  put(156, "0"); // regular file
  put(257, "ustar\0");
  put(263, "00");
  put(265, "root");
  put(297, "root");
  const sum = h.reduce((acc, byte) => acc + byte, 0);
  put(148, sum.toString(8).padStart(6, "0") + "\0 ");
  return h;
}

/** The archive bytes: each entry's header and data padded to 512 bytes, then two zero blocks. */
export function tarArchive(entries: readonly TarEntry[]): Uint8Array {
  const padded = (n: number) => Math.ceil(n / BLOCK) * BLOCK;
  const total = entries.reduce((acc, e) => acc + BLOCK + padded(e.data.length), 0) + 2 * BLOCK;
  const out = new Uint8Array(total);
  let at = 0;
  for (const entry of entries) {
    out.set(header(entry), at);
    at += BLOCK;
    out.set(entry.data, at);
    at += padded(entry.data.length);
  }
  return out;
}
