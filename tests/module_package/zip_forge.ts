// Writes zip structures by hand, so tests can build the archives that ZipWriter refuses to write
// (traversal names, symlink or device attributes, duplicate names, headers lying about sizes).

export type ForgedEntry = {
  /** Raw bytes are written as they are, e.g. to forge a name with a NUL byte or invalid UTF-8. */
  readonly name: string | Uint8Array;
  /** The content, stored (method 0) unless `deflate` is set. */
  readonly data?: Uint8Array<ArrayBuffer>;
  /** Compress `data` with raw DEFLATE (method 8). */
  readonly deflate?: boolean;
  /** An already compressed payload (method 8), written as is; `data` is then ignored. */
  readonly deflated?: Uint8Array;
  /** Unix mode with its file type bits, e.g. 0o120777 for a symlink; goes in the external attributes. */
  readonly unixMode?: number;
  /** Written verbatim instead of the one derived from `unixMode`. */
  readonly externalAttributes?: number;
  /** High byte: host system (3 = Unix, 0 = MS-DOS). */
  readonly versionMadeBy?: number;
  /** General purpose bit flag; bit 0 = encrypted. */
  readonly flags?: number;
  readonly compressionMethod?: number;
  /** Lies about the sizes in both headers when set. */
  readonly declaredUncompressedSize?: number;
  readonly declaredCompressedSize?: number;
  readonly crc32?: number;
};

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = CRC_TABLE[(crc ^ b) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Raw DEFLATE of `chunks`, streamed so a large input never sits in memory as a whole. */
export async function deflateRaw(
  chunks: Iterable<Uint8Array<ArrayBuffer>>,
): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new CompressionStream("deflate-raw");
  const writer = stream.writable.getWriter();
  const collected = (async () => {
    const parts: Uint8Array[] = [];
    for await (const part of stream.readable) parts.push(part);
    return concat(parts);
  })();
  for (const chunk of chunks) await writer.write(chunk);
  await writer.close();
  return await collected;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

type Prepared = {
  name: Uint8Array;
  payload: Uint8Array;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  uncompressedSize: number;
  versionMadeBy: number;
  externalAttributes: number;
};

async function prepare(entry: ForgedEntry): Promise<Prepared> {
  const name = typeof entry.name === "string" ? new TextEncoder().encode(entry.name) : entry.name;
  const data = entry.data ?? new Uint8Array();
  const payload = entry.deflated ?? (entry.deflate ? await deflateRaw([data]) : data);
  const isDirName = name.length > 0 && name[name.length - 1] === 0x2f;
  const unixMode = entry.unixMode ?? (isDirName ? 0o40755 : 0o100644);
  return {
    name,
    payload,
    method: entry.compressionMethod ?? (entry.deflated || entry.deflate ? 8 : 0),
    // Bit 11: the name is UTF-8.
    flags: entry.flags ?? 0x0800,
    crc: entry.crc32 ?? crc32(data),
    compressedSize: entry.declaredCompressedSize ?? payload.length,
    uncompressedSize: entry.declaredUncompressedSize ?? data.length,
    versionMadeBy: entry.versionMadeBy ?? 0x031e,
    externalAttributes: entry.externalAttributes ?? ((unixMode << 16) | (isDirName ? 0x10 : 0)) >>> 0,
  };
}

// 2000-01-01 00:00:00 in MS-DOS format.
const DOS_TIME = 0;
const DOS_DATE = ((2000 - 1980) << 9) | (1 << 5) | 1;

/** Builds a complete zip: local headers and data, central directory, end of central directory record. */
export async function forgeZip(entries: readonly ForgedEntry[]): Promise<Uint8Array<ArrayBuffer>> {
  const prepared = await Promise.all(entries.map(prepare));
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const p of prepared) {
    const local = new Uint8Array(30 + p.name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(6, p.flags, true);
    lv.setUint16(8, p.method, true);
    lv.setUint16(10, DOS_TIME, true);
    lv.setUint16(12, DOS_DATE, true);
    lv.setUint32(14, p.crc, true);
    lv.setUint32(18, p.compressedSize, true);
    lv.setUint32(22, p.uncompressedSize, true);
    lv.setUint16(26, p.name.length, true);
    lv.setUint16(28, 0, true);
    local.set(p.name, 30);

    const central = new Uint8Array(46 + p.name.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, p.versionMadeBy, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(8, p.flags, true);
    cv.setUint16(10, p.method, true);
    cv.setUint16(12, DOS_TIME, true);
    cv.setUint16(14, DOS_DATE, true);
    cv.setUint32(16, p.crc, true);
    cv.setUint32(20, p.compressedSize, true);
    cv.setUint32(24, p.uncompressedSize, true);
    cv.setUint16(28, p.name.length, true);
    cv.setUint32(38, p.externalAttributes, true);
    cv.setUint32(42, offset, true);
    central.set(p.name, 46);

    locals.push(local, p.payload);
    centrals.push(central);
    offset += local.length + p.payload.length;
  }
  const directory = concat(centrals);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, prepared.length, true);
  ev.setUint16(10, prepared.length, true);
  ev.setUint32(12, directory.length, true);
  ev.setUint32(16, offset, true);
  return concat([...locals, directory, end]);
}
